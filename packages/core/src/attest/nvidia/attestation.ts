/**
 * One GPU's (or NVSwitch's) attestation as it travels from the workload to a caller: the SPDM
 * GET_MEASUREMENTS request and response, concatenated as NVIDIA's tools emit them, and the
 * device certificate chain (PEM text or concatenated DER, leaf first) that verifies it.
 */
export interface GpuAttestation {
  readonly evidence: Uint8Array;
  readonly certificates: Uint8Array;
  /**
   * The CC mode the workload read from the driver inside its TEE (NVML / nvidia-smi). The GPU
   * does not sign it; it is as trustworthy as the attested workload that reported it, because
   * the whole GPU set, this field included, is bound into the CPU evidence.
   */
  readonly ccMode?: GpuCcMode;
}

/** "devtools" is CC with debugging and profiling allowed: the GPU's memory is not protected. */
export type GpuCcMode = "on" | "off" | "devtools";

export const GPU_CC_MODES: readonly GpuCcMode[] = ["on", "off", "devtools"];
