export type { InnerHandler, InnerRequest, InnerResponse } from "./api/inner.js";
export type { GpuSource } from "./attestation/attestor.js";
export { codeDigest } from "./attestation/code-digest.js";
export * from "./devices/index.js";
export { DEFAULT_CHAT_MODEL_PATH } from "./engines/default-models.js";
export type * from "./engines/engine.js";
export { type LlamaEngineOptions, loadLlamaEngine } from "./engines/llama.js";
export { loadUseLiteEngine, USE_LITE_ID } from "./engines/use-lite.js";
export * from "./models/index.js";
export * from "./tee/index.js";
export { VERSION } from "./version.js";
export {
  type Backend,
  type RunningWorkload,
  startWorkload,
  type WorkloadOptions,
} from "./workload.js";
