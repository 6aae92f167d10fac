/**
 * Every refusal in Cloister is a typed error with a stable machine-readable `code` and a
 * sentence a person can act on. Messages never carry secrets, prompts or completions.
 */
export class CloisterError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bytes that do not have the expected shape. Names the field and, for binary input, the offset. */
export class ParseError extends CloisterError {
  readonly field: string;
  readonly offset: number | undefined;

  constructor(code: string, field: string, message: string, offset?: number) {
    super(
      code,
      offset === undefined ? `${field}: ${message}` : `${field} at offset ${offset}: ${message}`,
    );
    this.field = field;
    this.offset = offset;
  }
}
