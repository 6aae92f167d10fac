import type { Check } from "./types.js";

/** Long hex values are shown by their first 16 characters, enough to tell them apart. */
export function short(hex: string): string {
  return hex.length > 16 ? `${hex.slice(0, 16)}…` : hex;
}

export const pass = (code: string, message: string): Check => ({ code, status: "pass", message });
export const warn = (code: string, message: string): Check => ({ code, status: "warn", message });
export const fail = (code: string, message: string): Check => ({ code, status: "fail", message });
export const skip = (code: string, message: string): Check => ({ code, status: "skip", message });
