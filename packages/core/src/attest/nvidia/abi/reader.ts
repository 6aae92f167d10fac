import { ParseError } from "../../../errors.js";

/** The reason code of every malformed-evidence error: the field and offset say what and where. */
export const MALFORMED = "nvidia.evidence.malformed";

/**
 * A cursor over the evidence that never reads past its end: each read names the field, so a
 * short input fails with the field that did not fit and the offset where it should have been.
 */
export class Reader {
  offset = 0;

  constructor(readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  take(length: number, field: string): Uint8Array {
    if (length > this.remaining) {
      throw new ParseError(
        MALFORMED,
        field,
        `needs ${length} bytes but only ${this.remaining} remain`,
        this.offset,
      );
    }
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  u8(field: string): number {
    return this.take(1, field)[0] as number;
  }

  /** SPDM integers are little-endian. */
  uint(length: 2 | 3 | 4, field: string): number {
    const bytes = this.take(length, field);
    let value = 0;
    for (let i = length - 1; i >= 0; i--) value = value * 256 + (bytes[i] as number);
    return value;
  }
}
