/**
 * Concatenates any number of parts. Unlike spreading them into concat(), it cannot hit the
 * engine's argument limit when a hostile message arrives in 100,000 tiny chunks.
 */
export function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}
