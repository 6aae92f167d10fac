import { fail, pass, short } from "../checks.js";
import type { Policy } from "../policy.js";
import type { Check, Claims } from "../types.js";
import type { CcaPlatformClaims, CcaSoftwareComponent } from "./claims.js";
import { type CcaPolicy, DEFAULT_CCA_LIFECYCLES } from "./policy.js";
import type {
  CcaComponentReference,
  CcaPlatformReference,
  CcaRealmReference,
  CcaReferenceValues,
} from "./reference-values.js";

/**
 * The CCA rules of a policy on top of the common ones (RIM as `measurements`, debug from the
 * lifecycle, instance ID as hardware ID): the lifecycle state and, when the policy carries
 * reference values, the platform firmware and the realm's measurements.
 */
export function appraiseCca(claims: Claims, policy: Policy): Check[] {
  const cca = claims.platformClaims as unknown as CcaPlatformClaims;
  // `cca` joins Policy when the lead wires CcaPolicy into attest/policy.ts.
  const rules: CcaPolicy = policy.cca ?? {};
  const checks = [lifecycleCheck(cca, rules.lifecycles ?? DEFAULT_CCA_LIFECYCLES)];
  if (rules.referenceValues !== undefined) {
    checks.push(...appraiseReferenceValues(cca, rules.referenceValues));
  }
  return checks;
}

/** Each stage narrows the candidate states; a stage that finds none ends the comparison. */
export function appraiseReferenceValues(
  cca: CcaPlatformClaims,
  values: CcaReferenceValues,
): Check[] {
  return [...platformChecks(cca, values.platform), ...realmChecks(cca, values.realm)];
}

function lifecycleCheck(cca: CcaPlatformClaims, allowed: readonly string[]): Check {
  const { value, name } = cca.platform.lifecycle;
  const state = `${name} (0x${value.toString(16).padStart(4, "0")})`;
  return allowed.includes(name)
    ? pass(
        "cca.policy.lifecycle",
        `The platform lifecycle state ${state} is one the policy allows.`,
      )
    : fail(
        "cca.policy.lifecycle",
        `The platform lifecycle state ${state} is not one the policy allows.`,
      );
}

function platformChecks(
  cca: CcaPlatformClaims,
  references: readonly CcaPlatformReference[],
): Check[] {
  const { implementationId, softwareComponents, config } = cca.platform;
  const known = references.filter((r) => r.implementationId === implementationId);
  if (known.length === 0) {
    return [
      fail(
        "cca.policy.platform_sw",
        `The reference values list no firmware for the platform implementation ${short(implementationId)}.`,
      ),
    ];
  }
  const sw = known.filter((r) => sameComponents(softwareComponents, r.softwareComponents));
  if (sw.length === 0) {
    return [
      fail(
        "cca.policy.platform_sw",
        "The platform's measured software components are not a state the reference values list.",
      ),
    ];
  }
  const checks = [
    pass(
      "cca.policy.platform_sw",
      `The platform's ${softwareComponents.length} software components match the reference values.`,
    ),
  ];
  if (sw.every((r) => r.config === undefined)) return checks;
  checks.push(
    sw.some((r) => r.config === undefined || r.config === config)
      ? pass(
          "cca.policy.platform_config",
          "The platform configuration matches the reference values.",
        )
      : fail(
          "cca.policy.platform_config",
          `The platform configuration ${short(config)} is not the one the reference values list for this firmware.`,
        ),
  );
  return checks;
}

/** The same set: every measured component is listed, and every listed one was measured. */
function sameComponents(
  measured: readonly CcaSoftwareComponent[],
  listed: readonly CcaComponentReference[],
): boolean {
  return (
    measured.length === listed.length &&
    measured.every((m) => listed.some((l) => componentMatches(m, l))) &&
    listed.every((l) => measured.some((m) => componentMatches(m, l)))
  );
}

function componentMatches(measured: CcaSoftwareComponent, listed: CcaComponentReference): boolean {
  return (
    measured.measurement === listed.measurement &&
    (listed.type === undefined || measured.type === listed.type) &&
    (listed.signerId === undefined || measured.signerId === listed.signerId) &&
    (listed.version === undefined || measured.version === listed.version)
  );
}

function realmChecks(cca: CcaPlatformClaims, references: readonly CcaRealmReference[]): Check[] {
  const realm = cca.realm;
  if (references.length === 0) return [];
  const stages: [string, string, (r: CcaRealmReference) => boolean][] = [
    ["cca.policy.rim", `realm initial measurement ${short(realm.rim)}`, (r) => r.rim === realm.rim],
    [
      "cca.policy.rem",
      "realm extensible measurements",
      (r) => r.rems === undefined || r.rems.every((rem, i) => rem === realm.rems[i]),
    ],
    [
      "cca.policy.personalization",
      `realm personalization value ${short(realm.personalizationValue)}`,
      (r) =>
        r.personalizationValue === undefined ||
        r.personalizationValue === realm.personalizationValue,
    ],
    [
      "cca.policy.rak_hash_algorithm",
      `RAK hash algorithm ${realm.publicKeyHashAlgorithm}`,
      (r) =>
        r.rakHashAlgorithm === undefined || r.rakHashAlgorithm === realm.publicKeyHashAlgorithm,
    ],
  ];
  const checks: Check[] = [];
  let candidates = references;
  for (const [code, what, matches] of stages) {
    candidates = candidates.filter(matches);
    if (candidates.length === 0) {
      checks.push(fail(code, `The ${what} is not one the reference values list.`));
      return checks;
    }
    checks.push(pass(code, `The ${what} matches the reference values.`));
  }
  return checks;
}
