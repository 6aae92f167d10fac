import { fail, pass, pinnedHex, skip } from "../checks.js";
import type { Check } from "../types.js";
import type { GpuCcMode } from "./attestation.js";
import type { GpuClaims } from "./claims.js";
import type { GpuPolicy } from "./policy.js";

/**
 * One check per rule, `nvidia.policy.*`; the claims come from verifyGpuEvidence only.
 * `observed` is the CC mode the attested workload read from the driver, when it reported one.
 */
export function appraiseGpu(claims: GpuClaims, policy: GpuPolicy, observed?: GpuCcMode): Check[] {
  const checks: Check[] = [];
  if (policy.architectures !== undefined) {
    checks.push(
      policy.architectures.includes(claims.architecture)
        ? pass(
            "nvidia.policy.architecture",
            `The device is ${claims.architecture} (${claims.chip}), which the policy allows.`,
          )
        : fail(
            "nvidia.policy.architecture",
            `The device is ${claims.architecture} (${claims.chip}); the policy allows ${policy.architectures.join(", ") || "none"}.`,
          ),
    );
  }
  if (policy.minimumDriverVersion !== undefined) {
    checks.push(
      versionCheck(
        "nvidia.policy.driver_version",
        "driver",
        claims.driverVersion,
        policy.minimumDriverVersion,
        10,
      ),
    );
  }
  if (policy.minimumVbiosVersion !== undefined) {
    checks.push(
      versionCheck(
        "nvidia.policy.vbios_version",
        "VBIOS",
        claims.vbiosVersion,
        policy.minimumVbiosVersion,
        16,
      ),
    );
  }
  checks.push(ccModeCheck(claims, observed, policy));
  for (const [index, allowed] of Object.entries(policy.measurements ?? {})) {
    const code = `nvidia.policy.measurement.${index}`;
    const actual = claims.measurements[Number(index)];
    checks.push(
      ...(actual === undefined
        ? [fail(code, `The evidence has no measurement ${index}, which the policy pins.`)]
        : pinnedHex(code, `measurement ${index}`, actual, allowed)),
    );
  }
  checks.push(revocationCheck(claims, policy));
  return checks;
}

/** Revoked always fails: no policy grants a grace period to a revoked device. */
function revocationCheck(claims: GpuClaims, policy: GpuPolicy): Check {
  const code = "nvidia.policy.revocation";
  switch (claims.revocation) {
    case "good":
      return pass(code, "Every certificate in the chain has a current OCSP status of good.");
    case "revoked":
      return fail(code, "A certificate in the chain is revoked: no policy accepts that.");
    case "unknown":
      return policy.allowUnknownRevocation === true
        ? skip(code, "Revocation is unknown (no usable OCSP response), as the policy permits.")
        : fail(
            code,
            "Revocation is unknown (no usable OCSP response) and the policy requires it known.",
          );
  }
}

function versionCheck(
  code: string,
  what: string,
  actual: string | undefined,
  minimum: string,
  radix: 10 | 16,
): Check {
  if (actual === undefined) {
    return fail(
      code,
      `The evidence reports no ${what} version; the policy requires at least ${minimum}.`,
    );
  }
  const order = compareVersions(actual, minimum, radix);
  if (order === undefined) {
    return fail(code, `The ${what} version ${actual} cannot be compared with ${minimum}.`);
  }
  return order >= 0
    ? pass(code, `The ${what} version ${actual} is at least ${minimum}.`)
    : fail(code, `The ${what} version ${actual} is older than the minimum ${minimum}.`);
}

/** Part by part; a missing part counts as 0. Undefined when a part is not a number. */
function compareVersions(a: string, b: string, radix: 10 | 16): number | undefined {
  const digits = radix === 10 ? /^\d{1,9}$/ : /^[0-9a-f]{1,8}$/i;
  const pa = a.split(".");
  const pb = b.split(".");
  if (![...pa, ...pb].every((part) => digits.test(part))) return undefined;
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = Number.parseInt(pa[i] ?? "0", radix) - Number.parseInt(pb[i] ?? "0", radix);
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * How the GPU's CC mode is known: signed by the GPU (newer firmware's feature flag: single- or
 * multi-GPU passthrough, protected PCIe), reported by the attested workload (which read it from
 * the driver inside its TEE and bound it into the CPU evidence), or not at all.
 */
export function gpuCcMode(claims: GpuClaims, observed?: GpuCcMode): string | undefined {
  if (observed === "devtools" || observed === "off") return observed;
  if (claims.feature !== undefined && claims.feature !== "unknown") {
    return `on (${claims.feature}, signed by the GPU)`;
  }
  return observed === "on" ? "on (reported by the attested workload)" : undefined;
}

/** CC mode on and dev-tools (debug) off, however the mode is known. */
function ccModeCheck(claims: GpuClaims, observed: GpuCcMode | undefined, policy: GpuPolicy): Check {
  const code = "nvidia.policy.cc_mode";
  if (observed === "devtools") {
    return fail(code, "The GPU runs in CC dev-tools mode: debugging can read its memory.");
  }
  if (observed === "off") return fail(code, "The GPU's confidential-computing mode is off.");
  if (claims.feature !== undefined && claims.feature !== "unknown") {
    return pass(code, `The GPU signs that it runs in CC mode (${claims.feature}).`);
  }
  if (observed === "on") {
    return pass(
      code,
      "The attested workload read CC mode on from the driver (bound into the CPU evidence).",
    );
  }
  return (policy.ccMode ?? "required") === "required"
    ? fail(
        code,
        'Neither the GPU\'s evidence nor a workload reports its CC mode; the policy requires CC mode (set ccMode to "attested elsewhere" if another check establishes it).',
      )
    : skip(code, "The policy leaves the CC mode to another check.");
}
