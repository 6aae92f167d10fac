import { AsnConvert } from "@peculiar/asn1-schema";
import { SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import { decode } from "cbor2";
import { concat, fromBase64Url, toBase64Url } from "../../bytes.js";
import { ParseError } from "../../errors.js";
import { pemBlocks } from "../pki/certificates.js";

export type EcCurve = "P-256" | "P-384" | "P-521";

/** An ECDSA public key as the Arm ecosystem hands it out, normalised to a JWK. */
export type KeyInput = JsonWebKey | string | Uint8Array;

const COSE_KEY = { kty: 1, crv: -1, x: -2, y: -3 } as const;
const COSE_EC2 = 2;
const COSE_CURVES: Readonly<Record<number, EcCurve>> = { 1: "P-256", 2: "P-384", 3: "P-521" };
const POINT_SIZES: Readonly<Record<number, EcCurve>> = { 65: "P-256", 97: "P-384", 133: "P-521" };

/**
 * A public EC key from a JWK, PEM text (SPKI "PUBLIC KEY"), a COSE_Key (CBOR map) or an
 * uncompressed SEC1 point (0x04 || x || y), as a JWK. ParseError under `code` otherwise.
 */
export function ecPublicJwk(input: KeyInput, field: string, code: string): JsonWebKey {
  if (typeof input === "string") return spkiPemToJwk(input, field, code);
  if (!(input instanceof Uint8Array)) {
    if (input.kty !== "EC" || typeof input.x !== "string" || typeof input.y !== "string") {
      throw new ParseError(code, field, "is not an EC public JWK");
    }
    return { kty: "EC", crv: input.crv, x: input.x, y: input.y } as JsonWebKey;
  }
  if (input[0] === 0x04) {
    const crv = POINT_SIZES[input.length];
    if (crv === undefined)
      throw new ParseError(code, field, "is not an uncompressed P-256/384/521 point");
    const size = (input.length - 1) / 2;
    return {
      kty: "EC",
      crv,
      x: toBase64Url(input.subarray(1, 1 + size)),
      y: toBase64Url(input.subarray(1 + size)),
    };
  }
  let map: unknown;
  try {
    map = decode(input, { preferMap: true });
  } catch {
    throw new ParseError(code, field, "is neither an EC point nor a COSE_Key");
  }
  if (!(map instanceof Map) || map.get(COSE_KEY.kty) !== COSE_EC2) {
    throw new ParseError(code, field, "is not an EC2 COSE_Key");
  }
  const crv = COSE_CURVES[map.get(COSE_KEY.crv) as number];
  const x = map.get(COSE_KEY.x);
  const y = map.get(COSE_KEY.y);
  if (crv === undefined || !(x instanceof Uint8Array) || !(y instanceof Uint8Array)) {
    throw new ParseError(code, field, "is not a P-256/384/521 COSE_Key with x and y");
  }
  return { kty: "EC", crv, x: toBase64Url(x), y: toBase64Url(y) };
}

/** The uncompressed SEC1 point of an EC JWK: what CCA hashes for the RAK binding. */
export function ecPoint(jwk: JsonWebKey): Uint8Array {
  const x = fromBase64Url(jwk.x ?? "");
  const y = fromBase64Url(jwk.y ?? "");
  if (x === undefined || y === undefined) throw new Error("unreachable: a checked JWK");
  return concat([Uint8Array.of(4), x, y]);
}

/**
 * Imports an EC public key for ECDSA verification; a key that is not on its curve rejects.
 * Imported keys are kept by their coordinates: the same few device and platform keys verify
 * many tokens, and importing costs more than a verification.
 */
export function importEcKey(jwk: JsonWebKey): Promise<CryptoKey> {
  const id = `${jwk.crv}:${jwk.x}:${jwk.y}`;
  let key = imported.get(id);
  if (key === undefined) {
    key = crypto.subtle.importKey(
      "jwk",
      { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y } as JsonWebKey,
      { name: "ECDSA", namedCurve: jwk.crv as EcCurve },
      true,
      ["verify"],
    );
    if (imported.size >= 256) imported.clear();
    imported.set(id, key);
    key.catch(() => imported.delete(id));
  }
  return key;
}

const imported = new Map<string, Promise<CryptoKey>>();

function spkiPemToJwk(text: string, field: string, code: string): JsonWebKey {
  const [der] = pemBlocks(text, "PUBLIC KEY", field, code);
  if (der === undefined) throw new ParseError(code, field, "holds no PEM PUBLIC KEY block");
  let point: Uint8Array;
  try {
    point = new Uint8Array(AsnConvert.parse(der, SubjectPublicKeyInfo).subjectPublicKey);
  } catch {
    throw new ParseError(code, field, "is not a SubjectPublicKeyInfo");
  }
  return ecPublicJwk(point, field, code);
}
