import { CloisterError } from "../errors.js";

/**
 * Shape checks for policy settings read from JSON. Each names the setting, so that a policy
 * author sees which line to fix; all refusals share the code "policy.invalid".
 */

export function settingObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    invalidSetting(name, "must be a JSON object");
  }
  return value as Record<string, unknown>;
}

export function settingList(value: unknown, name: string): readonly unknown[] {
  if (!Array.isArray(value)) invalidSetting(name, "must be a list");
  return value;
}

/** Hex values (measurements, digests, IDs), lower-cased as Cloister compares them. */
export function hexSettingList(value: unknown, name: string): string[] {
  return settingList(value, name).map((item) => {
    if (typeof item !== "string" || !/^[0-9a-fA-F]+$/.test(item)) {
      invalidSetting(name, "must be a list of hex strings");
    }
    return item.toLowerCase();
  });
}

export function invalidSetting(name: string, problem: string): never {
  throw new CloisterError("policy.invalid", `The policy setting ${name} ${problem}.`);
}
