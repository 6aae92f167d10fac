import type { AeadEncryptionContext, EncryptionContext } from "@hpke/core";
import { concat, utf8 } from "../bytes.js";
import { OhttpError } from "./errors.js";
import { hkdfExpand, hkdfExtract } from "./hkdf.js";
import type { SuiteRuntime } from "./suites.js";

const KEY_INFO = utf8("key");
const NONCE_INFO = utf8("nonce");

export const RESPONSE_LABEL = utf8("message/bhttp response");
export const CHUNKED_RESPONSE_LABEL = utf8("message/bhttp chunked response");

/** The AEAD key and base nonce that protect a response. */
export interface ResponseKey {
  readonly aead: AeadEncryptionContext;
  readonly nonce: Uint8Array;
}

/**
 * RFC 9458 section 4.4 (and the chunked draft, with its own label):
 * secret = Export(label, max(Nn, Nk)); prk = Extract(enc || response_nonce, secret);
 * key = Expand(prk, "key", Nk); nonce = Expand(prk, "nonce", Nn).
 * The salt is Nenc + max(Nn, Nk) bytes, which HKDF allows and the HPKE library's labeled
 * Extract does not, hence plain HKDF here.
 */
export async function deriveResponseKey(
  runtime: SuiteRuntime,
  context: EncryptionContext,
  label: Uint8Array,
  enc: Uint8Array,
  responseNonce: Uint8Array,
): Promise<ResponseKey> {
  const secret = new Uint8Array(await context.export(label, runtime.entropyLength));
  const prk = hkdfExtract(concat([enc, responseNonce]), secret);
  const key = hkdfExpand(prk, KEY_INFO, runtime.aead.keySize);
  return {
    aead: runtime.aead.createEncryptionContext(key.buffer as ArrayBuffer),
    nonce: hkdfExpand(prk, NONCE_INFO, runtime.aead.nonceSize),
  };
}

/** The nonce of chunk number `counter`: the base nonce XOR the counter, big-endian. */
export function chunkNonce(baseNonce: Uint8Array, counter: number): Uint8Array {
  const nonce = baseNonce.slice();
  let rest = counter;
  for (let i = nonce.length - 1; rest > 0 && i >= 0; i--) {
    nonce[i] = (nonce[i] as number) ^ (rest % 256);
    rest = Math.floor(rest / 256);
  }
  return nonce;
}

/** A fresh response nonce, or the caller's fixed one (test vectors), checked for length. */
export function responseNonce(runtime: SuiteRuntime, fixed: Uint8Array | undefined): Uint8Array {
  if (fixed === undefined) return crypto.getRandomValues(new Uint8Array(runtime.entropyLength));
  if (fixed.length !== runtime.entropyLength) {
    throw new OhttpError(
      "ohttp.invalid_argument",
      `responseNonce must be ${runtime.entropyLength} bytes for this suite, got ${fixed.length}.`,
    );
  }
  return fixed.slice();
}
