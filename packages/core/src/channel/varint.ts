/**
 * QUIC variable-length integers (RFC 9000 section 16), the integer encoding of Binary HTTP
 * and of chunk lengths in chunked OHTTP. Decoders accept non-minimal encodings, as both
 * formats require.
 */

/** Bytes the varint starting with `firstByte` occupies. */
export function varintSize(firstByte: number): number {
  return 1 << (firstByte >> 6);
}

/** Bytes the minimal encoding of `value` occupies. */
export function encodedVarintSize(value: number): number {
  if (value < 0x40) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x40000000) return 4;
  return 8;
}

/**
 * Reads the varint at `pos`, or returns undefined when `bytes` ends inside it. Values past
 * 2^53 lose precision; callers only use such values as lengths, which then overrun the input.
 */
export function readVarint(bytes: Uint8Array, pos: number): number | undefined {
  if (pos >= bytes.length) return undefined;
  const first = bytes[pos] as number;
  const size = varintSize(first);
  if (pos + size > bytes.length) return undefined;
  let value = first & 0x3f;
  for (let i = 1; i < size; i++) value = value * 256 + (bytes[pos + i] as number);
  return value;
}

/** Writes the minimal encoding of `value` at `pos` and returns the position after it. */
export function writeVarint(out: Uint8Array, pos: number, value: number): number {
  const size = encodedVarintSize(value);
  let rest = value;
  for (let i = size - 1; i > 0; i--) {
    out[pos + i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  out[pos] = rest | ((31 - Math.clz32(size)) << 6);
  return pos + size;
}
