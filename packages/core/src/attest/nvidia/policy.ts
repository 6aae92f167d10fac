import { hexSettingList, invalidSetting, settingList, settingObject } from "../policy-settings.js";
import type { NvidiaArchitecture } from "./device.js";

/**
 * Rules for one GPU's (or NVSwitch's) verified claims. Absent rules are not checked, except the
 * two that fail closed: CC mode must be established and revocation must be known, unless the
 * policy says how it is handled.
 */
export interface GpuPolicy {
  readonly architectures?: readonly NvidiaArchitecture[];
  /** Dotted decimal, e.g. "550.90.07": compared part by part as numbers. */
  readonly minimumDriverVersion?: string;
  /** Dotted hex, e.g. "96.00.9f.00.01": compared part by part as hex numbers. */
  readonly minimumVbiosVersion?: string;
  /**
   * "required" (the default) fails, because the evidence does not carry the CC mode; "attested
   * elsewhere" passes it to whoever established it (an NVML check in the attested CPU TEE, or a
   * RIM comparison of the measurements).
   */
  readonly ccMode?: "required" | "attested elsewhere";
  /** Measurement index -> allowed values (hex, case-insensitive). */
  readonly measurements?: Readonly<Record<number, readonly string[]>>;
  /** True accepts evidence whose certificates' revocation is unknown; default false (fail). */
  readonly allowUnknownRevocation?: boolean;
}

/**
 * The `nvidia` section of a policy: the rules for every GPU the workload attests, plus the set's
 * own rules. Without the section, GPUs a workload shows are still verified and bound (and the
 * fail-closed rules above apply); with `gpus`, the count is required too.
 */
export interface NvidiaPolicy extends GpuPolicy {
  /** Exactly this many GPUs (NVSwitches included) must be attested. */
  readonly gpus?: number;
  /**
   * The devices allowed, by the UEID in their certificates (hex): pinning the GPUs a machine was
   * provisioned with means evidence relayed from any other GPU, even a genuine one, is refused.
   */
  readonly deviceIds?: readonly string[];
  /**
   * Compare each GPU's measurements with the driver and VBIOS RIMs (NVIDIA-signed; collateral
   * "nvidia_rims"), and refuse a GPU without both. Default false: measurements are then only
   * compared with `measurements`, if set.
   */
  readonly requireRims?: boolean;
  /** Roots (PEM) of simulated GPUs to accept. INSECURE: for development only. */
  readonly simulatedRoots?: readonly string[];
}

const KEYS = [
  "gpus",
  "deviceIds",
  "architectures",
  "minimumDriverVersion",
  "minimumVbiosVersion",
  "ccMode",
  "measurements",
  "allowUnknownRevocation",
  "requireRims",
  "simulatedRoots",
] as const;
const ARCHITECTURES: readonly NvidiaArchitecture[] = ["HOPPER", "BLACKWELL", "LS10"];

/** Checks an `nvidia` policy section read from JSON; every mistake is named. */
export function parseNvidiaPolicy(value: unknown): NvidiaPolicy {
  const section = settingObject(value, "nvidia");
  for (const key of Object.keys(section)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      invalidSetting(`nvidia.${key}`, `is not a known setting (${KEYS.join(", ")})`);
    }
  }
  const { gpus, architectures, ccMode, measurements, simulatedRoots } = section;
  if (gpus !== undefined && (!Number.isSafeInteger(gpus) || (gpus as number) < 0)) {
    invalidSetting("nvidia.gpus", "must be a non-negative integer");
  }
  for (const flag of ["allowUnknownRevocation", "requireRims"] as const) {
    if (section[flag] !== undefined && typeof section[flag] !== "boolean") {
      invalidSetting(`nvidia.${flag}`, "must be true or false");
    }
  }
  if (ccMode !== undefined && ccMode !== "required" && ccMode !== "attested elsewhere") {
    invalidSetting("nvidia.ccMode", 'must be "required" or "attested elsewhere"');
  }
  for (const [name, pattern] of [
    ["minimumDriverVersion", /^\d+(\.\d+)*$/],
    ["minimumVbiosVersion", /^[0-9a-fA-F]+(\.[0-9a-fA-F]+)*$/],
  ] as const) {
    const v = section[name];
    if (v !== undefined && (typeof v !== "string" || !pattern.test(v))) {
      invalidSetting(`nvidia.${name}`, "must be a dotted version string");
    }
  }
  const pinned: Record<number, string[]> = {};
  if (measurements !== undefined) {
    for (const [index, allowed] of Object.entries(
      settingObject(measurements, "nvidia.measurements"),
    )) {
      if (!/^\d+$/.test(index)) invalidSetting("nvidia.measurements", "must be keyed by index");
      pinned[Number(index)] = hexSettingList(allowed, `nvidia.measurements.${index}`);
    }
  }
  return {
    ...(gpus === undefined ? {} : { gpus: gpus as number }),
    ...(section.deviceIds === undefined
      ? {}
      : { deviceIds: hexSettingList(section.deviceIds, "nvidia.deviceIds") }),
    ...(architectures === undefined
      ? {}
      : {
          architectures: settingList(architectures, "nvidia.architectures").map((a) => {
            if (!ARCHITECTURES.includes(a as NvidiaArchitecture)) {
              invalidSetting("nvidia.architectures", `must name ${ARCHITECTURES.join(", ")}`);
            }
            return a as NvidiaArchitecture;
          }),
        }),
    ...(section.minimumDriverVersion === undefined
      ? {}
      : { minimumDriverVersion: section.minimumDriverVersion as string }),
    ...(section.minimumVbiosVersion === undefined
      ? {}
      : { minimumVbiosVersion: section.minimumVbiosVersion as string }),
    ...(ccMode === undefined ? {} : { ccMode: ccMode as "required" | "attested elsewhere" }),
    ...(measurements === undefined ? {} : { measurements: pinned }),
    ...(section.allowUnknownRevocation === undefined
      ? {}
      : { allowUnknownRevocation: section.allowUnknownRevocation as boolean }),
    ...(section.requireRims === undefined ? {} : { requireRims: section.requireRims as boolean }),
    ...(simulatedRoots === undefined
      ? {}
      : {
          simulatedRoots: settingList(simulatedRoots, "nvidia.simulatedRoots").map((pem) => {
            if (typeof pem !== "string" || !pem.includes("-----BEGIN CERTIFICATE-----")) {
              invalidSetting("nvidia.simulatedRoots", "must list PEM certificates");
            }
            return pem;
          }),
        }),
  };
}
