export { OPAQUE_FIELD_NAMES, parseOpaqueData } from "./opaque.js";
export { type ParseGpuEvidenceOptions, parseGpuEvidence, SIGNATURE_LENGTH } from "./spdm.js";
export type * from "./types.js";
