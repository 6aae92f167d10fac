import { utf8 } from "../bytes.js";
import { encodedVarintSize, writeVarint } from "./varint.js";

/** AAD of the last chunk in both directions: it makes truncation at a chunk boundary detectable. */
export const FINAL_AAD = utf8("final");

/** Senders keep chunks at or below 2^14 bytes, the size every receiver must accept. */
export const MAX_CHUNK_PLAINTEXT = 16384;

/** Splits `bytes` into views of at most MAX_CHUNK_PLAINTEXT bytes (none when empty). */
export function splitChunks(bytes: Uint8Array): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let pos = 0; pos < bytes.length; pos += MAX_CHUNK_PLAINTEXT) {
    pieces.push(bytes.subarray(pos, pos + MAX_CHUNK_PLAINTEXT));
  }
  return pieces;
}

/**
 * Frames sealed chunks: a length prefix for each non-final one; the final one (the last, if
 * `lastIsFinal`) gets a zero prefix and runs to the end of the message.
 */
export function frameChunks(sealed: readonly Uint8Array[], lastIsFinal: boolean): Uint8Array {
  let size = 0;
  sealed.forEach((chunk, i) => {
    const final = lastIsFinal && i === sealed.length - 1;
    size += (final ? 1 : encodedVarintSize(chunk.length)) + chunk.length;
  });
  const out = new Uint8Array(size);
  let pos = 0;
  sealed.forEach((chunk, i) => {
    const final = lastIsFinal && i === sealed.length - 1;
    pos = writeVarint(out, pos, final ? 0 : chunk.length);
    out.set(chunk, pos);
    pos += chunk.length;
  });
  return out;
}
