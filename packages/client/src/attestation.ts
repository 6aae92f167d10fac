import {
  ATTESTATION_PATH,
  CloisterError,
  type Collateral,
  DEFAULT_POLICY,
  type Policy,
  parseBundle,
  type RimVerifier,
  toHex,
  verifyWorkload,
  type WorkloadVerification,
} from "@cloister/core";
import { defaultRimVerifier } from "./rim-verifier.js";

export interface FetchAttestationOptions {
  readonly policy?: Policy;
  /** Ask for fresh evidence bound to this nonce. */
  readonly nonce?: Uint8Array;
  readonly fetch?: typeof fetch;
  readonly now?: Date;
  /** Trust anchors and collateral the caller brings, e.g. Arm CCA platform keys (see verifyWorkload). */
  readonly collateral?: Collateral;
  /** Checks NVIDIA RIMs; default: the Node build's (see rim-verifier.ts), none in browsers. */
  readonly rimVerifier?: RimVerifier;
}

/**
 * GET the attestation bundle and run the whole check (evidence, binding, manifest pins).
 * Returns the verification whatever its verdict; callers decide what to do with a refusal.
 */
export async function fetchAttestation(
  url: string | URL,
  options: FetchAttestationOptions = {},
): Promise<WorkloadVerification> {
  const target = new URL(ATTESTATION_PATH, url);
  if (options.nonce !== undefined) target.searchParams.set("nonce", toHex(options.nonce));
  const doFetch = options.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(target, { headers: { accept: "application/json" } });
  } catch (error) {
    throw new CloisterError(
      "attestation.unreachable",
      `Could not reach ${target.origin}: is a Cloister workload running there?`,
      { cause: error },
    );
  }
  if (!response.ok) {
    throw new CloisterError(
      "attestation.http",
      `${target.href} answered ${response.status} ${response.statusText}.`,
    );
  }
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new CloisterError("attestation.http", `${target.href} did not answer with JSON.`);
  }
  const rimVerifier = options.rimVerifier ?? defaultRimVerifier();
  return verifyWorkload(parseBundle(json), options.policy ?? DEFAULT_POLICY, {
    now: options.now ?? new Date(),
    ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
    ...(options.collateral === undefined ? {} : { collateral: options.collateral }),
    ...(rimVerifier === undefined ? {} : { rimVerifier }),
  });
}
