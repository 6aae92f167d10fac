export * from "./abi/index.js";
export * from "./appraise.js";
export * from "./azure/index.js";
export * from "./claims.js";
export * from "./evidence-file.js";
export * from "./formats.js";
export * from "./policy.js";
export { snpVerifier } from "./verify.js";
