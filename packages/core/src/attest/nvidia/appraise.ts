import { fail, pass, pinnedHex, skip } from "../checks.js";
import type { Check } from "../types.js";
import type { GpuClaims } from "./claims.js";
import type { GpuPolicy } from "./policy.js";

/** One check per rule, `nvidia.policy.*`; the claims come from verifyGpuEvidence only. */
export function appraiseGpu(claims: GpuClaims, policy: GpuPolicy): Check[] {
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
  checks.push(
    (policy.ccMode ?? "required") === "required"
      ? fail(
          "nvidia.policy.cc_mode",
          'The policy requires CC mode, but the SPDM evidence does not report it; establish it another way and set ccMode to "attested elsewhere".',
        )
      : skip(
          "nvidia.policy.cc_mode",
          "The policy leaves the CC mode to another check (the evidence does not report it).",
        ),
  );
  for (const [index, allowed] of Object.entries(policy.measurements ?? {})) {
    const code = `nvidia.policy.measurement.${index}`;
    const actual = claims.measurements[Number(index)];
    checks.push(
      ...(actual === undefined
        ? [fail(code, `The evidence has no measurement ${index}, which the policy pins.`)]
        : pinnedHex(code, `measurement ${index}`, actual, allowed)),
    );
  }
  checks.push(
    policy.allowUnknownRevocation === true
      ? skip(
          "nvidia.policy.revocation",
          "Revocation is unknown (no OCSP response was checked), as the policy permits.",
        )
      : fail(
          "nvidia.policy.revocation",
          "Revocation is unknown (no OCSP response was checked) and the policy requires it known.",
        ),
  );
  return checks;
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
