import { decode, encode, Tag } from "cbor2";
import { asBufferSource } from "../../bytes.js";
import { ParseError } from "../../errors.js";

/** COSE algorithms the Arm attestation tokens use (RFC 9053): ECDSA with SHA-256/384/512. */
export const COSE_ALGORITHMS = {
  [-7]: { name: "ES256", hash: "SHA-256", namedCurve: "P-256" },
  [-35]: { name: "ES384", hash: "SHA-384", namedCurve: "P-384" },
  [-36]: { name: "ES512", hash: "SHA-512", namedCurve: "P-521" },
} as const;

export type CoseAlgorithm = keyof typeof COSE_ALGORITHMS;

/** A decoded COSE_Sign1 (RFC 9052 §4.2), not yet verified. */
export interface CoseSign1 {
  /** The protected header exactly as encoded: the signature covers these bytes. */
  readonly protectedBytes: Uint8Array;
  readonly protectedHeader: ReadonlyMap<unknown, unknown>;
  readonly unprotectedHeader: ReadonlyMap<unknown, unknown>;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
  /** Header parameter 1. */
  readonly algorithm: CoseAlgorithm;
}

const COSE_SIGN1_TAG = 18;
const ALG = 1;

/**
 * Reads a COSE_Sign1 from its CBOR bytes or from an already decoded item (tag 18 optional).
 * Total: anything else is a ParseError under `code`, naming `field`.
 */
export function decodeCoseSign1(
  input: Uint8Array | unknown,
  field: string,
  code: string,
): CoseSign1 {
  let item: unknown = input;
  if (input instanceof Uint8Array) {
    try {
      item = decode(input, { preferMap: true });
    } catch {
      throw new ParseError(code, field, "is not well-formed CBOR");
    }
  }
  if (item instanceof Tag) {
    if (item.tag !== COSE_SIGN1_TAG) {
      throw new ParseError(
        code,
        field,
        `carries CBOR tag ${String(item.tag)}, not 18 (COSE_Sign1)`,
      );
    }
    item = item.contents;
  }
  if (!Array.isArray(item) || item.length !== 4) {
    throw new ParseError(code, field, "is not a COSE_Sign1 array of four items");
  }
  const [protectedBytes, unprotectedHeader, payload, signature] = item as unknown[];
  if (!(protectedBytes instanceof Uint8Array)) {
    throw new ParseError(code, `${field}.protected`, "is not a byte string");
  }
  if (!(unprotectedHeader instanceof Map)) {
    throw new ParseError(code, `${field}.unprotected`, "is not a map");
  }
  if (!(payload instanceof Uint8Array)) {
    throw new ParseError(code, `${field}.payload`, "is not an attached byte-string payload");
  }
  if (!(signature instanceof Uint8Array)) {
    throw new ParseError(code, `${field}.signature`, "is not a byte string");
  }
  let protectedHeader: unknown = new Map();
  if (protectedBytes.length > 0) {
    try {
      protectedHeader = decode(protectedBytes, { preferMap: true });
    } catch {
      throw new ParseError(code, `${field}.protected`, "is not well-formed CBOR");
    }
  }
  if (!(protectedHeader instanceof Map)) {
    throw new ParseError(code, `${field}.protected`, "is not a map");
  }
  const algorithm = protectedHeader.get(ALG);
  if (typeof algorithm !== "number" || !(algorithm in COSE_ALGORITHMS)) {
    throw new ParseError(
      code,
      `${field}.protected.alg`,
      `names algorithm ${String(algorithm)}; ES256, ES384 and ES512 are supported`,
    );
  }
  return {
    protectedBytes,
    protectedHeader,
    unprotectedHeader,
    payload,
    signature,
    algorithm: algorithm as CoseAlgorithm,
  };
}

/**
 * Whether the COSE_Sign1 verifies with `key` (RFC 9052 §4.4: Sig_structure = ["Signature1",
 * protected, external_aad = h'', payload]). COSE ECDSA signatures are raw r || s, which is
 * exactly WebCrypto's format. A key for another curve simply does not verify.
 */
export async function verifyCoseSign1(sign1: CoseSign1, key: CryptoKey): Promise<boolean> {
  const { hash } = COSE_ALGORITHMS[sign1.algorithm];
  const toBeSigned = encode(["Signature1", sign1.protectedBytes, new Uint8Array(0), sign1.payload]);
  try {
    return await crypto.subtle.verify(
      { name: "ECDSA", hash },
      key,
      asBufferSource(sign1.signature),
      asBufferSource(toBeSigned),
    );
  } catch {
    return false;
  }
}

/**
 * Signs `payload` as a tagged COSE_Sign1 with `algorithm` in the protected header. Only devices
 * sign tokens; Cloister does so to simulate one (`cloister device release`) and in tests.
 */
export async function signCoseSign1(
  payload: Uint8Array,
  key: CryptoKey,
  algorithm: CoseAlgorithm,
): Promise<Uint8Array> {
  const { hash } = COSE_ALGORITHMS[algorithm];
  const protectedBytes = encode(new Map([[ALG, algorithm]]));
  const toBeSigned = encode(["Signature1", protectedBytes, new Uint8Array(0), payload]);
  const signature = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash }, key, asBufferSource(toBeSigned)),
  );
  return encode(new Tag(COSE_SIGN1_TAG, [protectedBytes, new Map(), payload, signature]));
}
