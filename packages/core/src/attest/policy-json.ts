import { CloisterError } from "../errors.js";
import type { Policy, WorkloadPins } from "./policy.js";
import { parseSnpPolicy } from "./snp/policy.js";
import { HARDWARE_PLATFORMS, PLATFORMS, type Platform } from "./types.js";

const KEYS = new Set([
  "platforms",
  "simulatedRoots",
  "measurements",
  "hardwareIds",
  "allowDebug",
  "workload",
  "snp",
]);
const WORKLOAD_KEYS = ["codeDigests", "configDigests", "modelDigests"] as const;

/**
 * A policy read from JSON (a policy file, a config store). A misspelt pin must not silently
 * disappear, so unknown keys and wrong types are refused with the setting's name.
 */
export function parsePolicy(value: unknown): Policy {
  const json = object(value, "the policy");
  for (const key of Object.keys(json)) {
    if (!KEYS.has(key)) invalid(key, `is not a known policy setting (${[...KEYS].join(", ")})`);
  }
  const platforms =
    json.platforms === undefined
      ? HARDWARE_PLATFORMS
      : list(json.platforms, "platforms").map((p) => {
          if (!PLATFORMS.includes(p as Platform)) {
            invalid("platforms", `must name platforms among ${PLATFORMS.join(", ")}`);
          }
          return p as Platform;
        });
  const workload =
    json.workload === undefined ? undefined : parseWorkload(object(json.workload, "workload"));
  if (json.allowDebug !== undefined && typeof json.allowDebug !== "boolean") {
    invalid("allowDebug", "must be true or false");
  }
  if (json.simulatedRoots !== undefined) {
    for (const root of list(json.simulatedRoots, "simulatedRoots")) {
      object(root, "simulatedRoots[]");
    }
  }
  return {
    platforms,
    ...(json.simulatedRoots === undefined
      ? {}
      : { simulatedRoots: json.simulatedRoots as JsonWebKey[] }),
    ...(json.measurements === undefined
      ? {}
      : { measurements: hexList(json.measurements, "measurements") }),
    ...(json.hardwareIds === undefined
      ? {}
      : { hardwareIds: hexList(json.hardwareIds, "hardwareIds") }),
    ...(json.allowDebug === undefined ? {} : { allowDebug: json.allowDebug as boolean }),
    ...(workload === undefined ? {} : { workload }),
    ...(json.snp === undefined ? {} : { snp: parseSnpPolicy(json.snp) }),
  };
}

function parseWorkload(json: Record<string, unknown>): WorkloadPins {
  const pins: Record<string, string[]> = {};
  for (const key of Object.keys(json)) {
    if (!(WORKLOAD_KEYS as readonly string[]).includes(key)) {
      invalid(`workload.${key}`, `is not a known workload pin (${WORKLOAD_KEYS.join(", ")})`);
    }
    pins[key] = list(json[key], `workload.${key}`).map((digest) => {
      if (typeof digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
        invalid(`workload.${key}`, 'must list digests written "sha256:<64 hex digits>"');
      }
      return digest;
    });
  }
  return pins;
}

function hexList(value: unknown, name: string): string[] {
  return list(value, name).map((item) => {
    if (typeof item !== "string" || !/^[0-9a-fA-F]+$/.test(item)) {
      invalid(name, "must be a list of hex strings");
    }
    return item.toLowerCase();
  });
}

function object(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    invalid(name, "must be a JSON object");
  }
  return value as Record<string, unknown>;
}

function list(value: unknown, name: string): readonly unknown[] {
  if (!Array.isArray(value)) invalid(name, "must be a list");
  return value;
}

function invalid(name: string, problem: string): never {
  throw new CloisterError("policy.invalid", `The policy setting ${name} ${problem}.`);
}
