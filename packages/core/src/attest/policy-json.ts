import { parseCcaPolicy } from "./cca/policy.js";
import { parseDcapPolicy, parseSgxPolicy, parseTdxPolicy } from "./dcap/policy.js";
import { parseNvidiaPolicy } from "./nvidia/policy.js";
import type { Policy, WorkloadPins } from "./policy.js";
import { hexSettingList, invalidSetting, settingList, settingObject } from "./policy-settings.js";
import { parsePsaPolicy } from "./psa/policy.js";
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
  "dcap",
  "tdx",
  "sgx",
  "cca",
  "psa",
  "nvidia",
]);
const WORKLOAD_KEYS = ["codeDigests", "configDigests", "modelDigests", "modelSigners"] as const;

/**
 * A policy read from JSON (a policy file, a config store). A misspelt pin must not silently
 * disappear, so unknown keys and wrong types are refused with the setting's name.
 */
export function parsePolicy(value: unknown): Policy {
  const json = settingObject(value, "the policy");
  for (const key of Object.keys(json)) {
    if (!KEYS.has(key))
      invalidSetting(key, `is not a known policy setting (${[...KEYS].join(", ")})`);
  }
  const platforms =
    json.platforms === undefined
      ? HARDWARE_PLATFORMS
      : settingList(json.platforms, "platforms").map((p) => {
          if (!PLATFORMS.includes(p as Platform)) {
            invalidSetting("platforms", `must name platforms among ${PLATFORMS.join(", ")}`);
          }
          return p as Platform;
        });
  const workload =
    json.workload === undefined
      ? undefined
      : parseWorkload(settingObject(json.workload, "workload"));
  if (json.allowDebug !== undefined && typeof json.allowDebug !== "boolean") {
    invalidSetting("allowDebug", "must be true or false");
  }
  if (json.simulatedRoots !== undefined) {
    for (const root of settingList(json.simulatedRoots, "simulatedRoots")) {
      settingObject(root, "simulatedRoots[]");
    }
  }
  return {
    platforms,
    ...(json.simulatedRoots === undefined
      ? {}
      : { simulatedRoots: json.simulatedRoots as JsonWebKey[] }),
    ...(json.measurements === undefined
      ? {}
      : { measurements: hexSettingList(json.measurements, "measurements") }),
    ...(json.hardwareIds === undefined
      ? {}
      : { hardwareIds: hexSettingList(json.hardwareIds, "hardwareIds") }),
    ...(json.allowDebug === undefined ? {} : { allowDebug: json.allowDebug as boolean }),
    ...(workload === undefined ? {} : { workload }),
    ...(json.snp === undefined ? {} : { snp: parseSnpPolicy(json.snp) }),
    ...(json.dcap === undefined ? {} : { dcap: parseDcapPolicy(json.dcap) }),
    ...(json.tdx === undefined ? {} : { tdx: parseTdxPolicy(json.tdx) }),
    ...(json.sgx === undefined ? {} : { sgx: parseSgxPolicy(json.sgx) }),
    ...(json.cca === undefined ? {} : { cca: parseCcaPolicy(json.cca) }),
    ...(json.psa === undefined ? {} : { psa: parsePsaPolicy(json.psa) }),
    ...(json.nvidia === undefined ? {} : { nvidia: parseNvidiaPolicy(json.nvidia) }),
  };
}

function parseWorkload(json: Record<string, unknown>): WorkloadPins {
  const pins: Record<string, string[]> = {};
  for (const key of Object.keys(json)) {
    if (!(WORKLOAD_KEYS as readonly string[]).includes(key)) {
      invalidSetting(
        `workload.${key}`,
        `is not a known workload pin (${WORKLOAD_KEYS.join(", ")})`,
      );
    }
    pins[key] = settingList(json[key], `workload.${key}`).map((digest) => {
      if (key === "modelSigners") {
        if (typeof digest !== "string" || digest === "") {
          invalidSetting("workload.modelSigners", "must list signer identities as strings");
        }
        return digest;
      }
      if (typeof digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
        invalidSetting(`workload.${key}`, 'must list digests written "sha256:<64 hex digits>"');
      }
      return digest;
    });
  }
  return pins;
}
