import { ENC_NONCE_PREFIX_BYTES } from "./format.js";

/**
 * The 96-bit AES-GCM nonce of segment `index`: the file's 7-byte random prefix, the segment
 * counter as 4 bytes big-endian, then 1 for the final segment and 0 otherwise — the nonce-based
 * STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár (CRYPTO 2015). The counter
 * defeats reordering, the flag truncation and extension.
 */
export function encSegmentNonce(noncePrefix: Uint8Array, index: number, last: boolean): Uint8Array {
  if (noncePrefix.length !== ENC_NONCE_PREFIX_BYTES)
    throw new RangeError(`A nonce prefix is ${ENC_NONCE_PREFIX_BYTES} bytes.`);
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff)
    throw new RangeError("A segment index is a 32-bit unsigned integer.");
  const nonce = new Uint8Array(12);
  nonce.set(noncePrefix, 0);
  new DataView(nonce.buffer).setUint32(ENC_NONCE_PREFIX_BYTES, index);
  nonce[11] = last ? 1 : 0;
  return nonce;
}
