import { CloisterError } from "@cloister/core";
import { ABORTED_CODE, ABORTED_MESSAGE, HashFileError } from "./hash-file.js";

export function abortedError(): CloisterError {
  return new CloisterError(ABORTED_CODE, ABORTED_MESSAGE);
}

/** A HashFileError as the CloisterError callers expect; anything else passes through. */
export function asCloisterError(error: unknown): unknown {
  return error instanceof HashFileError
    ? new CloisterError(error.code, error.message, { cause: error.cause })
    : error;
}
