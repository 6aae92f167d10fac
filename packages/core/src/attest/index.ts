export * from "./appraise.js";
export * from "./checks.js";
export * from "./policy.js";
export * from "./simulated/format.js";
export { type ParsedSimulatedEvidence, parseSimulatedEvidence } from "./simulated/parse.js";
export { simulatedRootId } from "./simulated/verify.js";
export * from "./snp/index.js";
export * from "./types.js";
export * from "./verifier.js";
