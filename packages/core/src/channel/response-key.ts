import type { AeadEncryptionContext, EncryptionContext } from "@hpke/core";
import { asBufferSource, utf8 } from "../bytes.js";
import { OhttpError } from "./errors.js";
import type { SuiteRuntime } from "./suites.js";

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
 * WebCrypto's HKDF does Extract and Expand in one call, with a salt of any length (the HPKE
 * library's Extract insists on a hash-sized salt, and this one is Nenc + max(Nn, Nk) bytes).
 */
export async function deriveResponseKey(
  runtime: SuiteRuntime,
  context: EncryptionContext,
  label: Uint8Array,
  enc: Uint8Array,
  responseNonce: Uint8Array,
): Promise<ResponseKey> {
  const secret = await context.export(label, runtime.entropyLength);
  const ikm = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveBits"]);
  const salt = new Uint8Array(enc.length + responseNonce.length);
  salt.set(enc);
  salt.set(responseNonce, enc.length);
  const expand = (info: string, length: number) =>
    crypto.subtle.deriveBits(
      { name: "HKDF", hash: runtime.hash, salt, info: asBufferSource(utf8(info)) },
      ikm,
      8 * length,
    );
  const [key, nonce] = await Promise.all([
    expand("key", runtime.aead.keySize),
    expand("nonce", runtime.aead.nonceSize),
  ]);
  return {
    aead: runtime.aead.createEncryptionContext(new Uint8Array(key)),
    nonce: new Uint8Array(nonce),
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
