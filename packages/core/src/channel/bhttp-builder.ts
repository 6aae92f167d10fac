import { encodedVarintSize, writeVarint } from "./varint.js";

/**
 * Collects the parts of a Binary HTTP message, then writes them into one buffer: content is
 * copied once, straight into place, and never grown.
 */
export class ByteBuilder {
  // A number stands for a varint; bytes are referenced until finish() copies them.
  private readonly parts: (number | Uint8Array)[] = [];
  size = 0;

  varint(value: number): this {
    this.parts.push(value);
    this.size += encodedVarintSize(value);
    return this;
  }

  bytes(bytes: Uint8Array): this {
    this.parts.push(bytes);
    this.size += bytes.length;
    return this;
  }

  /** A known-length part: its length, then its bytes. */
  prefixed(bytes: Uint8Array): this {
    return this.varint(bytes.length).bytes(bytes);
  }

  append(other: ByteBuilder): this {
    for (const part of other.parts) this.parts.push(part);
    this.size += other.size;
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let pos = 0;
    for (const part of this.parts) {
      if (typeof part === "number") {
        pos = writeVarint(out, pos, part);
      } else {
        out.set(part, pos);
        pos += part.length;
      }
    }
    return out;
  }
}
