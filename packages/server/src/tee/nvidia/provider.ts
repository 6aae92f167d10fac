import type { GpuAttestation } from "@cloister/core";

/**
 * Where confidential-GPU evidence comes from on the serving machine: one SPDM GET_MEASUREMENTS
 * transcript and certificate chain per GPU, each over the caller's 32-byte nonce.
 */
export interface GpuEvidenceProvider {
  /** Human description for `cloister doctor` and logs, e.g. "nvattest (2 GPUs, CC on)". */
  readonly description: string;
  /** How many GPUs each collection attests. */
  readonly count: number;
  collect(nonce: Uint8Array): Promise<GpuAttestation[]>;
}
