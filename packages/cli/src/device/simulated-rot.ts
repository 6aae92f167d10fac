import {
  type EatPsaClaims,
  encodePsaClaims,
  fromHex,
  PSA_LIFECYCLE_STATES,
  PSA_PROFILE_2,
  type PsaLifecycleState,
  psaInstanceIdOf,
  signCoseSign1,
} from "@cloister/core";

/**
 * A simulated PSA root of trust, for trying edge key release without a device: it signs tokens
 * the way TF-M does, by default with TF-M's published test IAK. Anyone can sign with that key,
 * so a server that enrolls it trusts nothing; it exists for demonstrations and tests only.
 */
export interface SimulatedRotOptions {
  /** The IAK, an ECDSA P-256 private JWK; TF-M's test key when absent. */
  readonly iak?: JsonWebKey;
  readonly lifecycle?: PsaLifecycleState;
  /** Replace the measurement of the components with these types (e.g. "SPE"): a changed firmware. */
  readonly measurements?: ReadonlyMap<string, Uint8Array>;
  /** Sign this nonce instead of the one asked for (to see a refusal). */
  readonly nonceOverride?: Uint8Array;
}

/**
 * TF-M's test IAK (platform/ext/common/template/tfm_initial_attestation_key.pem in
 * trusted-firmware-m): public material, DO NOT USE IN PRODUCTION. Its public key is the one
 * TF-M's example tokens verify with; its instance ID is 01fa5875…0248.
 */
export const TFM_TEST_IAK: JsonWebKey = {
  kty: "EC",
  crv: "P-256",
  d: "qbRUsm1vkKTqMRk1ZMupH-xvmgAqfcBQS5Khk3E0WF8",
  x: "eeupDov0UKZ1FXatRZmwet-TjaO7C9F9ADbtSaLQ_D8",
  y: "v836iVa1aL_bhnPmSNi1jZKZVbFKJsMIDzQRfZcdaGQ",
};

/** The firmware TF-M's example token reports: its secure and non-secure images. */
const COMPONENTS = [
  {
    measurementType: "SPE",
    version: "1.6.0",
    signerId: "bfe6d86f8826f4ff97fb96c4e6fbc4993e4619fc565da26adf34c329489adc38",
    measurementValue: "96a2ec56c65120a60ce3a53ef8d2082233772aacd5b17935a92be12ac577f685",
  },
  {
    measurementType: "NSPE",
    version: "0.0.0",
    signerId: "b360caf5c98c6b942a4882fa9d4823efb166a9ef6a6e4aa37c1919ed1fccc049",
    measurementValue: "087d13c68f32aaafb8c4fc0a2253445432009765e216fb85c398c9580522c1bf",
  },
] as const;

/** The RoT's attest function: a token over the nonce, as psa_initial_attest_get_token gives. */
export async function simulatedRot(
  options: SimulatedRotOptions = {},
): Promise<(nonce: Uint8Array) => Promise<Uint8Array>> {
  const jwk = options.iak ?? TFM_TEST_IAK;
  const iak = await crypto.subtle.importKey(
    "jwk",
    jwk,
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign"],
  );
  const instanceId = await psaInstanceIdOf({ kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y });
  const lifecycle = PSA_LIFECYCLE_STATES.indexOf(options.lifecycle ?? "secured") << 12;
  return async (nonce) => {
    const claims: EatPsaClaims = {
      profile: PSA_PROFILE_2,
      clientId: 3002,
      securityLifecycle: lifecycle,
      implementationId: hex("aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd"),
      bootSeed: crypto.getRandomValues(new Uint8Array(32)),
      certificationReference: "0604565272829-10010",
      softwareComponents: COMPONENTS.map((c) => ({
        measurementType: c.measurementType,
        version: c.version,
        signerId: hex(c.signerId),
        measurementValue: options.measurements?.get(c.measurementType) ?? hex(c.measurementValue),
        measurementDescription: "SHA256",
      })),
      nonce: options.nonceOverride ?? nonce,
      instanceId,
      verificationService: "www.trustedfirmware.org",
    };
    return signCoseSign1(encodePsaClaims(claims), iak, -7);
  };
}

function hex(text: string): Uint8Array {
  return fromHex(text) as Uint8Array;
}
