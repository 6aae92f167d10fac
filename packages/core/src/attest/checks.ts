import type { Check } from "./types.js";

/** Long hex values are shown by their first 16 characters, enough to tell them apart. */
export function short(hex: string): string {
  return hex.length > 16 ? `${hex.slice(0, 16)}…` : hex;
}

export const pass = (code: string, message: string): Check => ({ code, status: "pass", message });
export const warn = (code: string, message: string): Check => ({ code, status: "warn", message });
export const fail = (code: string, message: string): Check => ({ code, status: "fail", message });
export const skip = (code: string, message: string): Check => ({ code, status: "skip", message });

/**
 * A hex value against the policy's allowed list: no check when nothing is pinned, otherwise pass
 * or fail under `code`. Allowed values compare case-insensitively; `actual` is lower-case hex.
 */
export function pinnedHex(
  code: string,
  what: string,
  actual: string,
  allowed: readonly string[] | undefined,
): Check[] {
  if (allowed === undefined) return [];
  return allowed.some((value) => value.toLowerCase() === actual)
    ? [pass(code, `The ${what} ${short(actual)} is one the policy allows.`)]
    : [fail(code, `The ${what} ${short(actual)} is not one the policy allows.`)];
}
