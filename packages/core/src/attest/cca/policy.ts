import { invalidSetting, settingList, settingObject } from "../policy-settings.js";
import { CCA_LIFECYCLE_NAMES, type CcaLifecycleName } from "./claims.js";
import { type CcaReferenceValues, parseCcaReferenceValues } from "./reference-values.js";

/**
 * Arm CCA rules; the common `measurements` pin the realm initial measurement (RIM) and
 * `hardwareIds` the platform instance ID. Reference values are policy, not collateral: they say
 * what the relying party accepts, in the same JSON as Veraison's and Trustee's stores.
 */
export interface CcaPolicy {
  /** PSA lifecycle states accepted. Default ["secured"]: any other state is refused. */
  readonly lifecycles?: readonly CcaLifecycleName[];
  /**
   * Known-good platform firmware and realms. Given, the platform's software components must be
   * one listed state for its implementation ID, and the realm's RIM/REMs one listed realm.
   */
  readonly referenceValues?: CcaReferenceValues;
}

export const DEFAULT_CCA_LIFECYCLES: readonly CcaLifecycleName[] = ["secured"];

/** `policy.cca` read from JSON; unknown keys and wrong shapes are "policy.invalid". */
export function parseCcaPolicy(value: unknown): CcaPolicy {
  const section = settingObject(value, "cca");
  for (const key of Object.keys(section)) {
    if (key !== "lifecycles" && key !== "referenceValues") {
      invalidSetting(`cca.${key}`, "is not a known setting (lifecycles, referenceValues)");
    }
  }
  const lifecycles =
    section.lifecycles === undefined
      ? undefined
      : settingList(section.lifecycles, "cca.lifecycles").map((name) => {
          if (!CCA_LIFECYCLE_NAMES.includes(name as CcaLifecycleName)) {
            invalidSetting(
              "cca.lifecycles",
              `must name states among ${CCA_LIFECYCLE_NAMES.join(", ")}`,
            );
          }
          return name as CcaLifecycleName;
        });
  return {
    ...(lifecycles === undefined ? {} : { lifecycles }),
    ...(section.referenceValues === undefined
      ? {}
      : {
          referenceValues: parseCcaReferenceValues(section.referenceValues, "cca.referenceValues"),
        }),
  };
}
