/**
 * The names under which Arm CCA evidence and its collateral travel (attestation bundles, the
 * configfs-tsm provider, the command line). Producer and verifier must agree on them.
 */

/**
 * A CCA attestation token: the CBOR collection of the platform and realm tokens, as configfs-tsm
 * `outblob` returns it in a realm (tag 399), or the same pair as a CMW collection (tag 907).
 */
export const CCA_TOKEN_FORMAT = "cca-token";

export const CCA_COLLATERAL = {
  /**
   * The trust anchor(s) for the platform attestation key (CPAK): PEM "PUBLIC KEY", an EC JWK,
   * or a JSON list of {"pkey", "implementation-id", "instance-id"} entries (a Veraison store).
   */
  platformKeys: "cca_platform_keys",
} as const;
