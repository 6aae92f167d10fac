import { CloisterError, ParseError } from "../errors.js";
import type { Policy } from "./policy.js";
import type { Check, Claims, Evidence, Platform, VerifyContext } from "./types.js";

/**
 * One per platform folder (attest/<platform>/). `verify` is parse + authenticity: it returns
 * Claims only when every signature chains to a pinned root, and throws a ParseError or a
 * VerificationError otherwise. `appraise` adds the platform's own policy rules (minimum TCB
 * and the like) on top of the common ones.
 */
export interface PlatformVerifier {
  readonly platform: Platform;
  verify(evidence: Evidence, context: VerifyContext): Promise<VerifiedEvidence>;
  /** `now` is the verification time, for rules on age (collateral freshness). */
  appraise?(claims: Claims, policy: Policy, now: Date): readonly Check[];
}

export interface VerifiedEvidence {
  readonly claims: Claims;
  /** The authenticity checks that passed, for the per-check report. */
  readonly checks: readonly Check[];
}

/** Evidence that parsed but is not authentic: bad signature, unknown root, expired certificate. */
export class VerificationError extends CloisterError {}

/**
 * Refuses evidence in a format this verifier does not read, naming the one it does (code
 * "<platform>.format"): evidence labelled for one parser must never reach another.
 */
export function requireFormat(evidence: Evidence, format: string, name: string): void {
  if (evidence.format === format) return;
  throw new ParseError(
    `${evidence.platform}.format`,
    "format",
    `${name} evidence must be "${format}", not ${JSON.stringify(evidence.format.slice(0, 40))}.`,
  );
}
