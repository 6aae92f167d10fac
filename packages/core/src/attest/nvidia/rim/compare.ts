import { fail, pass, short, skip } from "../../checks.js";
import type { Check } from "../../types.js";
import type { Rim, RimMeasurement } from "./types.js";

/**
 * NVIDIA's appraisal rule for GPU measurements: every active entry of the driver and VBIOS RIMs
 * must have a runtime measurement at its index, of the entry's size, equal to one of its
 * alternatives. Inactive entries and runtime measurements no RIM mentions are not compared. The
 * two RIMs must not both claim an index.
 */

export interface CompareOptions {
  /**
   * RIM indexes not to compare, each reported as skipped. NVIDIA skips index 35 when the
   * evidence's opaque data says the NVDEC0 engine is disabled, since its measurement is then
   * not produced.
   */
  readonly skip?: readonly number[];
}

/**
 * `measurements` maps RIM indexes (SPDM block index − 1) to lower- or upper-case hex digests.
 * Returns one failing check per mismatching or missing index, or one passing check.
 */
export function compareMeasurements(
  rims: Rim | readonly Rim[],
  measurements: ReadonlyMap<number, string>,
  options: CompareOptions = {},
): Check[] {
  const list: readonly Rim[] = isRimList(rims) ? rims : [rims];
  const golden = new Map<number, { entry: RimMeasurement; rim: Rim }>();
  const checks: Check[] = [];
  for (const rim of list) {
    for (const entry of rim.measurements) {
      if (!entry.active) continue;
      const other = golden.get(entry.index);
      if (other !== undefined) {
        checks.push(
          fail(
            "nvidia.rim.index_conflict",
            `Measurement index ${entry.index} is active in both the ${describe(other.rim)} and the ${describe(rim)} RIM.`,
          ),
        );
        continue;
      }
      golden.set(entry.index, { entry, rim });
    }
  }
  const skipped = new Set(options.skip ?? []);
  let matched = 0;
  for (const [index, { entry, rim }] of [...golden].sort((a, b) => a[0] - b[0])) {
    if (skipped.has(index)) {
      checks.push(skip("nvidia.rim.measurement", `Measurement index ${index} is not compared.`));
      continue;
    }
    const actual = measurements.get(index)?.toLowerCase();
    if (actual === undefined) {
      checks.push(
        fail(
          "nvidia.rim.measurement_missing",
          `The evidence has no measurement at index ${index}, which the ${describe(rim)} RIM requires.`,
        ),
      );
    } else if (actual.length !== entry.size * 2 || !entry.alternatives.includes(actual)) {
      checks.push(
        fail(
          "nvidia.rim.measurement_mismatch",
          `Measurement index ${index} is ${short(actual)}, none of the ${entry.alternatives.length} value(s) the ${describe(rim)} RIM allows.`,
        ),
      );
    } else {
      matched++;
    }
  }
  if (!checks.some((check) => check.status === "fail")) {
    checks.push(
      pass(
        "nvidia.rim.measurements",
        `All ${matched} active RIM measurements match the evidence (${list.map(describe).join(", ")}).`,
      ),
    );
  }
  return checks;
}

function describe(rim: Rim): string {
  return `${rim.product} ${rim.colloquialVersion}`;
}

function isRimList(rims: Rim | readonly Rim[]): rims is readonly Rim[] {
  return Array.isArray(rims);
}
