import { CloisterError, ParseError } from "../errors.js";

export type OhttpErrorCode =
  /** The bytes do not have the shape of an encapsulated message or key configuration. */
  | "ohttp.malformed"
  /** No gateway key has the key identifier the request names. */
  | "ohttp.unknown_key"
  /** The KEM, KDF or AEAD is not one this side offers or can run. */
  | "ohttp.unsupported_suite"
  /** Authentication failed: wrong key, tampered bytes, or a chunk out of place. */
  | "ohttp.decrypt"
  /** The message ended before its final chunk. */
  | "ohttp.truncated"
  /** The request's encapsulated key was already accepted inside the replay window. */
  | "ohttp.replay"
  /** The request's Date is outside the replay window. */
  | "ohttp.stale"
  /** A caller passed a value the API cannot use (a programming error, not hostile input). */
  | "ohttp.invalid_argument"
  /** A call came in the wrong order, such as sealing after the final chunk. */
  | "ohttp.invalid_state";

/** A refusal of the encrypted channel. Messages describe sizes and positions, never content. */
export class OhttpError extends CloisterError {
  declare readonly code: OhttpErrorCode;

  constructor(code: OhttpErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export type BhttpErrorCode =
  /** The message breaks a rule of RFC 9292 (or of HTTP fields it refers to). */
  | "bhttp.malformed"
  /** The message ends inside a part that cannot be truncated. */
  | "bhttp.truncated"
  /** An encoder was given something RFC 9292 cannot carry, or was called out of order. */
  | "bhttp.invalid";

/** A Binary HTTP message that cannot be decoded or encoded; names the field and the offset. */
export class BhttpError extends ParseError {
  declare readonly code: BhttpErrorCode;

  constructor(code: BhttpErrorCode, field: string, message: string, offset?: number) {
    super(code, field, message, offset);
  }
}
