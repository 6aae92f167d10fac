import { toHex } from "../bytes.js";

/**
 * Wraps a collateral parser so that each distinct input is parsed once and kept. A relying party
 * checks many pieces of evidence against the same day's collateral (keys, CRLs, TCB info), and
 * parsing it can cost more than the signature checks. Inputs are compared by content; at most
 * `limit` are kept. A parser that throws keeps nothing, so a bad input is refused every time.
 */
export function parseOnce<T>(
  parse: (input: Uint8Array | string) => T,
  limit = 64,
): (input: Uint8Array | string) => T {
  const parsed = new Map<string, T>();
  return (input) => {
    // Strings and bytes never share a key: the prefix keeps "ab" apart from the bytes 0xab.
    const key = typeof input === "string" ? `s:${input}` : `b:${toHex(input)}`;
    let value = parsed.get(key);
    if (value === undefined) {
      value = parse(input);
      if (parsed.size >= limit) parsed.clear();
      parsed.set(key, value);
    }
    return value;
  };
}
