import { CloisterError } from "../errors.js";
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
