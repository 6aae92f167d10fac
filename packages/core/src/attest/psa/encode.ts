import { encode } from "cbor2";
import type { PSA_PROFILE_1, PsaClaims, PsaProfile } from "./claims.js";

/** A claim set in one of the EAT-based profiles, the only ones Cloister writes. */
export type EatPsaClaims = PsaClaims & {
  readonly profile: Exclude<PsaProfile, typeof PSA_PROFILE_1>;
};

/**
 * Encodes a claim set as the CBOR payload of a PSA token in the EAT-based layout (profile
 * http://arm.com/psa/2.0.0 or RFC 9783's), the one TF-M emits today. The legacy P1 layout is
 * only ever read. A device's RoT does this; Cloister does it to simulate a device.
 */
export function encodePsaClaims(claims: EatPsaClaims): Uint8Array {
  const map = new Map<number, unknown>([
    [265, claims.profile],
    [2394, claims.clientId],
    [2395, claims.securityLifecycle],
    [2396, claims.implementationId],
    [10, claims.nonce],
    [256, claims.instanceId],
  ]);
  if (claims.bootSeed !== undefined) map.set(2397, claims.bootSeed);
  if (claims.certificationReference !== undefined) map.set(2398, claims.certificationReference);
  if (claims.verificationService !== undefined) map.set(2400, claims.verificationService);
  map.set(
    2399,
    (claims.softwareComponents ?? []).map((c) => {
      const component = new Map<number, unknown>();
      if (c.measurementType !== undefined) component.set(1, c.measurementType);
      component.set(2, c.measurementValue);
      if (c.version !== undefined) component.set(4, c.version);
      component.set(5, c.signerId);
      if (c.measurementDescription !== undefined) component.set(6, c.measurementDescription);
      return component;
    }),
  );
  return encode(map);
}
