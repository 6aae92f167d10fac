/**
 * One GPU's (or NVSwitch's) attestation as it travels from the workload to a caller: the SPDM
 * GET_MEASUREMENTS request and response, concatenated as NVIDIA's tools emit them, and the
 * device certificate chain (PEM text or concatenated DER, leaf first) that verifies it.
 */
export interface GpuAttestation {
  readonly evidence: Uint8Array;
  readonly certificates: Uint8Array;
}
