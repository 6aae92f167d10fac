/**
 * Simulated evidence: a compact JWS (ES384) over a small claims document, signed by a
 * per-installation simulated root key. It has the shape of real evidence (a signature by a key
 * the verifier must pin, a measurement, 64 bytes of report data) and none of its guarantees:
 * whoever holds the root key can sign anything.
 */
export const SIMULATED_FORMAT = "simulated-jws";
export const SIMULATED_JWS_TYPE = "cloister-simulated-evidence+jws";
export const SIMULATED_ALG = "ES384";

/** The signed payload. Hex fields are lower case. */
export interface SimulatedReport {
  readonly v: 1;
  readonly platform: "simulated";
  /** SHA-384 over the workload's code and configuration digests (96 hex characters). */
  readonly measurement: string;
  /** The 64 bytes of report data (128 hex characters). */
  readonly report_data: string;
  /** The simulated TEE never runs "with debug"; the field exists so policies see the same claim. */
  readonly debug: boolean;
  /** A random per-installation identity standing in for a chip ID (64 hex characters). */
  readonly instance_id: string;
  /** Seconds since the epoch when the evidence was produced. */
  readonly iat: number;
}
