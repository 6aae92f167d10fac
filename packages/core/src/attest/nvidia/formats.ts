/** The names under which NVIDIA collateral travels in an attestation bundle. */
export const NVIDIA_COLLATERAL = {
  /**
   * The driver and VBIOS Reference Integrity Manifests for the workload's GPUs: a JSON list of
   * SWID XML documents, as NVIDIA's RIM service serves them. NVIDIA signs them, so the workload
   * may carry them; a caller may also bring its own.
   */
  rims: "nvidia_rims",
  /**
   * OCSP responses for the GPUs' certificate chains: a JSON list of base64 DER OCSPResponses, as
   * NVIDIA's OCSP service answers them, in any order. They are signed, so anyone may carry them.
   */
  ocsp: "nvidia_ocsp",
} as const;
