import { createCipheriv, createDecipheriv } from "node:crypto";
import { ENC_TAG_BYTES, encSegmentNonce } from "@cloister/core";

/**
 * One segment under AES-256-GCM through node:crypto (OpenSSL): a fresh cipher per segment
 * because each has its own nonce. Output: the ciphertext and the 16-byte tag that follows it,
 * as two buffers: joining them would copy every segment once more.
 */
export function sealSegment(
  fileKey: Uint8Array,
  headerBytes: Uint8Array,
  noncePrefix: Uint8Array,
  index: number,
  last: boolean,
  plaintext: Uint8Array,
): readonly [ciphertext: Buffer, tag: Buffer] {
  const cipher = createCipheriv("aes-256-gcm", fileKey, encSegmentNonce(noncePrefix, index, last), {
    authTagLength: ENC_TAG_BYTES,
  });
  cipher.setAAD(headerBytes);
  const body = cipher.update(plaintext);
  cipher.final(); // GCM holds nothing back: final() only computes the tag
  return [body, cipher.getAuthTag()];
}

/**
 * Opens one segment (ciphertext || tag); returns undefined when the tag does not verify. GCM's
 * update() releases plaintext before final() has checked the tag: nothing leaves here unless
 * final() succeeded.
 */
export function openSegment(
  fileKey: Uint8Array,
  headerBytes: Uint8Array,
  noncePrefix: Uint8Array,
  index: number,
  last: boolean,
  sealed: Uint8Array,
): Buffer | undefined {
  if (sealed.length < ENC_TAG_BYTES) return undefined;
  const split = sealed.length - ENC_TAG_BYTES;
  const decipher = createDecipheriv(
    "aes-256-gcm",
    fileKey,
    encSegmentNonce(noncePrefix, index, last),
    { authTagLength: ENC_TAG_BYTES },
  );
  decipher.setAAD(headerBytes);
  decipher.setAuthTag(sealed.subarray(split));
  const body = decipher.update(sealed.subarray(0, split));
  try {
    const tail = decipher.final();
    return tail.length === 0 ? body : Buffer.concat([body, tail]);
  } catch {
    return undefined;
  }
}
