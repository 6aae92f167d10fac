/** The names under which NVIDIA collateral travels in an attestation bundle. */
export const NVIDIA_COLLATERAL = {
  /**
   * The driver and VBIOS Reference Integrity Manifests for the workload's GPUs: a JSON list of
   * SWID XML documents, as NVIDIA's RIM service serves them. NVIDIA signs them, so the workload
   * may carry them; a caller may also bring its own.
   */
  rims: "nvidia_rims",
} as const;
