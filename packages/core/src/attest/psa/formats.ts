/**
 * The names under which PSA evidence and its collateral travel. Producer and verifier must agree
 * on them.
 */

/** A PSA attestation token as the device returns it: a tagged COSE_Sign1 (or COSE_Mac0). */
export const PSA_TOKEN_FORMAT = "psa-token";

export const PSA_COLLATERAL = {
  /**
   * The endorsed Initial Attestation Keys, as JSON (or PEM) text; see endorsements.ts for the
   * format. Without it no PSA token can be verified: the IAK has no certificate chain.
   */
  endorsements: "psa_endorsements",
} as const;
