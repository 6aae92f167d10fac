import canonicalizeModule from "canonicalize";
import { CloisterError } from "../errors.js";

// canonicalize is CommonJS (`module.exports = fn`) while its typings declare an ES default export;
// under Node and bundlers the default import is the function itself.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/**
 * RFC 8785 (JSON Canonicalization Scheme). Both sides of a binding hash these exact bytes, so
 * the serialisation must not depend on key order or number formatting.
 */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (error) {
    throw new CloisterError(
      "json.canonical",
      "The value cannot be canonicalised as JSON (it holds NaN or Infinity).",
      {
        cause: error,
      },
    );
  }
  if (text === undefined) {
    throw new CloisterError(
      "json.canonical",
      "The value cannot be canonicalised as JSON (it is undefined).",
    );
  }
  return text;
}
