export * from "./detect-gpus.js";
export {
  checkNonce as checkGpuNonce,
  collectWithNvattest,
  GPU_NONCE_LENGTH,
  nvattestArguments,
  parseNvattestOutput,
} from "./nvattest.js";
export { type GpuDevice, readProcDriverVersion, readProcGpus } from "./proc.js";
export type * from "./provider.js";
export {
  type GpuCcState,
  type GpuReadyState,
  parseCcStatus,
  parseDevToolsMode,
  parseQueryGpus,
  parseReadyState,
} from "./smi.js";
export type { FoundTools, GpuToolPaths } from "./tools.js";
