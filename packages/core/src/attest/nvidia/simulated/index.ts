export {
  encodeGpuEvidence,
  type GpuEvidenceFields,
  type GpuMeasurementInput,
  type GpuOpaqueFieldInput,
  type GpuOpaqueInput,
  signGpuEvidence,
} from "./encode.js";
export {
  type CreateSimulatedGpuOptions,
  createSimulatedGpu,
  importSimulatedGpu,
  type SimulatedGpu,
  type SimulatedGpuOptions,
} from "./gpu.js";
