import { ECDSASigValue, ECParameters } from "@peculiar/asn1-ecc";
import { AsnConvert } from "@peculiar/asn1-schema";
import { SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import { asText, pemBlocks } from "../attest/pki/certificates.js";
import { asBufferSource, concat, equalBytes, sha256, toHex, utf8 } from "../bytes.js";
import { CloisterError, ParseError } from "../errors.js";
import { encodeBase64 } from "./base64.js";

/**
 * The keys model_signing signs with: ECDSA on P-256, P-384 or P-521, each hashed with the SHA-2
 * of matching strength (its get_ec_key_hash). Signatures are DER ECDSA-Sig-Value, as OpenSSL
 * writes them; WebCrypto wants r || s, so this module converts both ways.
 */

export type EcCurve = "P-256" | "P-384" | "P-521";

const CURVES: Readonly<Record<string, { curve: EcCurve; hash: string; size: number }>> = {
  "1.2.840.10045.3.1.7": { curve: "P-256", hash: "SHA-256", size: 32 },
  "1.3.132.0.34": { curve: "P-384", hash: "SHA-384", size: 48 },
  "1.3.132.0.35": { curve: "P-521", hash: "SHA-512", size: 66 },
};

const EC_PUBLIC_KEY = "1.2.840.10045.2.1";

export interface EcPublicKey {
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  readonly curve: EcCurve;
  readonly hash: string;
  readonly size: number;
  readonly key: CryptoKey;
}

const UNSUPPORTED = "model.key.unsupported";

/** One PEM "PUBLIC KEY" block (text around it, like certtool's dump, is ignored). */
export async function parsePublicKeyPem(
  pem: string | Uint8Array,
  source: string,
): Promise<EcPublicKey> {
  const blocks = pemBlocks(asText(pem, source, UNSUPPORTED), "PUBLIC KEY", source, UNSUPPORTED);
  if (blocks.length !== 1 || blocks[0] === undefined) {
    throw new ParseError(
      UNSUPPORTED,
      source,
      `must hold one PEM PUBLIC KEY block, not ${blocks.length}`,
    );
  }
  return importEcSpki(blocks[0], source);
}

/** Imports a DER SubjectPublicKeyInfo; anything but an EC key on a supported curve is refused. */
export async function importEcSpki(spki: Uint8Array, source: string): Promise<EcPublicKey> {
  let info: SubjectPublicKeyInfo;
  try {
    info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
  } catch {
    throw new ParseError(UNSUPPORTED, source, "is not a DER SubjectPublicKeyInfo");
  }
  let curveOid: string | undefined;
  try {
    const params = info.algorithm.parameters;
    curveOid =
      info.algorithm.algorithm === EC_PUBLIC_KEY && params
        ? AsnConvert.parse(params, ECParameters).namedCurve
        : undefined;
  } catch {
    curveOid = undefined;
  }
  const spec = curveOid === undefined ? undefined : CURVES[curveOid];
  if (spec === undefined) {
    throw new ParseError(
      UNSUPPORTED,
      source,
      "is not an ECDSA P-256, P-384 or P-521 key, the only keys model signing uses",
    );
  }
  try {
    const key = await crypto.subtle.importKey(
      "spki",
      asBufferSource(spki),
      { name: "ECDSA", namedCurve: spec.curve },
      true,
      ["verify"],
    );
    // Re-export gives the canonical DER, so that hints and fingerprints never depend on encoding.
    const der = new Uint8Array(await crypto.subtle.exportKey("spki", key));
    return { spki: der, curve: spec.curve, hash: spec.hash, size: spec.size, key };
  } catch {
    throw new ParseError(UNSUPPORTED, source, `is not a valid point on ${spec.curve}`);
  }
}

/** The key as PEM the way Python's cryptography writes it: 64-column base64, trailing newline. */
export function publicKeyPem(spki: Uint8Array): string {
  const lines = encodeBase64(spki).match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join("\n")}\n-----END PUBLIC KEY-----\n`;
}

/** model_signing's `publicKey.hint`: SHA-256 hex of that PEM text. */
export async function publicKeyHint(spki: Uint8Array): Promise<string> {
  return toHex(await sha256(utf8(publicKeyPem(spki))));
}

/** "sha256:<hex of the DER SPKI>": how Cloister names a signing key to people. */
export async function keyFingerprint(spki: Uint8Array): Promise<string> {
  return `sha256:${toHex(await sha256(spki))}`;
}

/**
 * Whether `signature` (DER) verifies over `message`. Never throws. Only the canonical DER form is
 * accepted, as OpenSSL does, so that one signature has one byte form.
 */
export async function verifyEcdsa(
  key: EcPublicKey,
  signature: Uint8Array,
  message: Uint8Array,
): Promise<boolean> {
  const raw = derToRaw(signature, key.size);
  if (raw === undefined) return false;
  try {
    return await crypto.subtle.verify(
      { name: "ECDSA", hash: key.hash },
      key.key,
      asBufferSource(raw),
      asBufferSource(message),
    );
  } catch {
    return false;
  }
}

/** Signs with an ECDSA private CryptoKey and returns the DER signature model_signing writes. */
export async function signEcdsa(privateKey: CryptoKey, message: Uint8Array): Promise<Uint8Array> {
  const algorithm = privateKey.algorithm as EcKeyAlgorithm;
  const spec = Object.values(CURVES).find((c) => c.curve === algorithm.namedCurve);
  if (algorithm.name !== "ECDSA" || spec === undefined || privateKey.type !== "private") {
    throw new CloisterError(
      UNSUPPORTED,
      "The signing key must be an ECDSA P-256, P-384 or P-521 private key.",
    );
  }
  const raw = new Uint8Array(
    await crypto.subtle.sign(
      { name: "ECDSA", hash: spec.hash },
      privateKey,
      asBufferSource(message),
    ),
  );
  const value = new ECDSASigValue();
  value.r = integer(raw.subarray(0, spec.size));
  value.s = integer(raw.subarray(spec.size));
  return new Uint8Array(AsnConvert.serialize(value));
}

function derToRaw(der: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const value = AsnConvert.parse(der, ECDSASigValue);
    if (!equalBytes(new Uint8Array(AsnConvert.serialize(value)), der)) return undefined;
    const r = unsigned(new Uint8Array(value.r), size);
    const s = unsigned(new Uint8Array(value.s), size);
    return r && s ? concat([r, s]) : undefined;
  } catch {
    return undefined;
  }
}

/** A DER INTEGER's content as a fixed-size unsigned big-endian number; undefined if it won't fit. */
function unsigned(bytes: Uint8Array, size: number): Uint8Array | undefined {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const digits = bytes.subarray(start);
  if (digits.length > size || ((bytes[0] as number) & 0x80) !== 0) return undefined;
  const out = new Uint8Array(size);
  out.set(digits, size - digits.length);
  return out;
}

/** The minimal two's-complement content of a non-negative integer. */
function integer(bytes: Uint8Array): ArrayBuffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const digits = bytes.subarray(start);
  const out = ((digits[0] as number) & 0x80) !== 0 ? concat([new Uint8Array([0]), digits]) : digits;
  return new Uint8Array(out).buffer;
}
