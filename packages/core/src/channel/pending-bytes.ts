/**
 * Bytes received but not yet parsed, kept as the caller's own chunks. Reading copies only
 * when a read spans chunks, so a stream of whole units is parsed without copying.
 */
export class PendingBytes {
  private parts: Uint8Array[] = [];
  private first = 0;
  private length = 0;

  get size(): number {
    return this.length;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  /** The first `n` bytes without consuming them; n must not exceed size. */
  peek(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const head = this.parts[0] as Uint8Array;
    if (this.first + n <= head.length) return head.subarray(this.first, this.first + n);
    const out = new Uint8Array(n);
    let filled = 0;
    for (let i = 0; filled < n; i++) {
      const part = this.parts[i] as Uint8Array;
      const from = i === 0 ? this.first : 0;
      const count = Math.min(n - filled, part.length - from);
      out.set(part.subarray(from, from + count), filled);
      filled += count;
    }
    return out;
  }

  /** Removes and returns the first `n` bytes; n must not exceed size. */
  take(n: number): Uint8Array {
    const out = this.peek(n);
    this.length -= n;
    let skip = n;
    while (skip > 0) {
      const head = this.parts[0] as Uint8Array;
      const left = head.length - this.first;
      if (skip < left) {
        this.first += skip;
        return out;
      }
      skip -= left;
      this.parts.shift();
      this.first = 0;
    }
    return out;
  }
}
