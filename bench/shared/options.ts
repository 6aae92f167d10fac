/** Command-line pieces every bench shares: `--out`, `--help` and whole-number flags. */

import { RESULTS_DIR } from "./results.js";

/** For `parseArgs`'s `options`, beside the bench's own. */
export const COMMON_OPTIONS = {
  out: { type: "string", default: RESULTS_DIR },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** `text` as a whole number of at least `min`, or an error that names `flag` (e.g. "--warm"). */
export function wholeNumber(flag: string, text: string, min = 1): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min)
    throw new Error(`${flag} must be a whole number of at least ${min}, not "${text}".`);
  return n;
}
