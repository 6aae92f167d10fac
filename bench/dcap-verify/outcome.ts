/**
 * What each implementation concluded about a quote, in one shape, so that every sample can be
 * checked against the status index.json records (outside the timing): a benchmark of refusals
 * or of wrong verdicts must not pass for one of verifications.
 */

import type { Claims } from "@cloister/core";
import type { VerifiedReport } from "@phala/dcap-qvl";

export interface Outcome {
  readonly status: string;
  /** Sorted. */
  readonly advisoryIds: readonly string[];
}

export interface Expected {
  readonly id: string;
  readonly expectedStatus: string;
  readonly expectedAdvisoryIds: readonly string[];
}

/** Cloister's converged TCB status, or undefined when the quote did not verify. */
export function cloisterOutcome(claims: Claims | undefined): Outcome | undefined {
  const tcb = (claims?.platformClaims as { tcb?: Outcome } | undefined)?.tcb;
  return tcb === undefined
    ? undefined
    : { status: tcb.status, advisoryIds: [...tcb.advisoryIds].sort() };
}

export function oracleOutcome(report: VerifiedReport): Outcome {
  return { status: report.status, advisoryIds: [...report.advisory_ids].sort() };
}

/** Throws unless the outcome is the expected status with the expected advisories. */
export function expectOutcome(
  vector: Expected,
  outcome: Outcome | undefined,
  who: string,
  sample: number,
): void {
  const same =
    outcome !== undefined &&
    outcome.status === vector.expectedStatus &&
    outcome.advisoryIds.join() === vector.expectedAdvisoryIds.join();
  if (!same) {
    throw new Error(
      `${vector.id}: ${who} sample ${sample} gave ${outcome === undefined ? "no verified TCB" : `${outcome.status} [${outcome.advisoryIds.join(", ")}]`}, not ${vector.expectedStatus} [${vector.expectedAdvisoryIds.join(", ")}].`,
    );
  }
}
