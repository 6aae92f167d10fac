export * from "./abi/index.js";
export * from "./appraise.js";
export { type GpuChainOptions, type GpuChainResult, verifyGpuCertChain } from "./chain.js";
export type { GpuClaims } from "./claims.js";
export type { NvidiaArchitecture, NvidiaDevice } from "./device.js";
export * from "./input.js";
export * from "./policy.js";
export { NVIDIA_DEVICE_ROOT_NAME, NVIDIA_DEVICE_ROOT_SHA256 } from "./roots.js";
export * from "./verify.js";
