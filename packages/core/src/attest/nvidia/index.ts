export * from "./abi/index.js";
export * from "./appraise.js";
export * from "./attestation.js";
export * from "./binding.js";
export {
  type GpuChainOptions,
  type GpuChainResult,
  type GpuTrustAnchor,
  verifyGpuCertChain,
} from "./chain.js";
export type { GpuClaims } from "./claims.js";
export * from "./composite.js";
export type { NvidiaArchitecture, NvidiaDevice } from "./device.js";
export * from "./formats.js";
export * from "./input.js";
export * from "./policy.js";
export { NVIDIA_DEVICE_ROOT_NAME, NVIDIA_DEVICE_ROOT_SHA256 } from "./roots.js";
export * from "./simulated/index.js";
export * from "./verify.js";
