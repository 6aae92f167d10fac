import { fail, pass, pinnedHex, short, warn } from "../checks.js";
import type { Policy } from "../policy.js";
import type { Check, Claims } from "../types.js";
import type { PsaPlatformClaims } from "./claims.js";
import type { PsaSwComponentReference } from "./policy.js";

type Component = PsaPlatformClaims["softwareComponents"][number];

/**
 * The PSA rules of a policy on top of the common ones (the software-component digest as
 * `measurements`, the instance ID as hardware ID, debug lifecycle states as debug): lifecycle,
 * implementation and instance IDs, and software components against reference values.
 */
export function appraisePsa(claims: Claims, policy: Policy): Check[] {
  const psa = claims.platformClaims as unknown as PsaPlatformClaims;
  const rules = policy.psa ?? {};
  return [
    lifecycleCheck(psa.lifecycle, rules.requireSecuredLifecycle ?? true),
    ...pinnedHex(
      "psa.policy.implementation_id",
      "PSA implementation ID",
      psa.implementationId,
      rules.implementationIds,
    ),
    ...pinnedHex("psa.policy.instance_id", "PSA instance ID", psa.instanceId, rules.instanceIds),
    ...(rules.softwareComponents === undefined
      ? []
      : [componentsCheck(psa.softwareComponents, rules.softwareComponents)]),
  ];
}

function lifecycleCheck(lifecycle: PsaPlatformClaims["lifecycle"], required: boolean): Check {
  const value = `0x${lifecycle.value.toString(16).padStart(4, "0")}`;
  if (lifecycle.name === "secured") {
    return pass(
      "psa.policy.lifecycle",
      `The PSA RoT is in the secured lifecycle state (${value}).`,
    );
  }
  const message = `The PSA RoT is in the ${lifecycle.name} lifecycle state (${value}), not secured`;
  return required
    ? fail("psa.policy.lifecycle", `${message}.`)
    : warn("psa.policy.lifecycle", `${message}, which this policy allows.`);
}

function componentsCheck(
  components: readonly Component[],
  references: readonly PsaSwComponentReference[],
): Check {
  if (components.length === 0) {
    return fail(
      "psa.policy.sw_component",
      "The token reports no software measurements, but the policy pins software components.",
    );
  }
  const stray = components.find((c) => !references.some((r) => matches(c, r)));
  if (stray !== undefined) {
    return fail(
      "psa.policy.sw_component",
      `The software component ${stray.type ?? "(untyped)"} with measurement ${short(stray.value)} matches no reference value in the policy.`,
    );
  }
  return pass(
    "psa.policy.sw_component",
    `All ${components.length} software components match reference values in the policy.`,
  );
}

function matches(component: Component, reference: PsaSwComponentReference): boolean {
  return (
    component.value === reference.measurementValue.toLowerCase() &&
    (reference.measurementType === undefined || component.type === reference.measurementType) &&
    (reference.signerId === undefined || component.signerId === reference.signerId.toLowerCase())
  );
}
