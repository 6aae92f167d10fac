export { buildRim } from "./build.js";
export { verifyRimChain } from "./chain.js";
export { type CompareOptions, compareMeasurements } from "./compare.js";
export { compareGpuWithRims, rimsForChip, rimsForGpu } from "./gpu.js";
export { NVIDIA_RIM_ROOT_NAME, NVIDIA_RIM_ROOT_SHA256 } from "./root.js";
export type {
  RawRim,
  RawRimMeasurement,
  Rim,
  RimHashAlgorithm,
  RimMeasurement,
  RimSigner,
  RimVerifier,
  VerifiedRim,
} from "./types.js";
