/**
 * The HTTP surface clients and the workload agree on. Everything here crosses the wire.
 */

/** GET: the attestation bundle (evidence, collateral, manifest). `?nonce=<hex>` asks for fresh evidence. */
export const ATTESTATION_PATH = "/v1/attestation";

/** POST: the only way in for inference; the body is an encapsulated (chunked) OHTTP request. */
export const OHTTP_PATH = "/v1/ohttp";

/** Nonces are 8 to 64 bytes (16 to 128 hex characters). */
export const NONCE_MIN_BYTES = 8;
export const NONCE_MAX_BYTES = 64;

/**
 * Problem types (RFC 9457) for errors the gateway reports in the clear, before or instead of
 * decapsulation. They never carry content.
 */
export const PROBLEMS = {
  /** The body is not an encapsulated request (wrong media type or malformed). */
  notEncapsulated: "https://cloister.dev/problems/not-encapsulated",
  /** The request names a key the gateway does not hold (rotated): re-attest and retry. */
  unknownKey: "https://cloister.dev/problems/unknown-key",
  /** The request did not decrypt. */
  decryptFailed: "https://cloister.dev/problems/decrypt-failed",
  /** This encapsulated request was seen before: a replay. */
  replayed: "https://cloister.dev/problems/replayed",
  /** The request's inner Date is missing or outside the gateway's window (check the clock). */
  staleDate: "https://cloister.dev/problems/stale-date",
  /** Too many fresh-evidence requests. */
  rateLimited: "https://cloister.dev/problems/rate-limited",
  /** The nonce is not 8 to 64 bytes of hex. */
  badNonce: "https://cloister.dev/problems/bad-nonce",
} as const;

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
}
