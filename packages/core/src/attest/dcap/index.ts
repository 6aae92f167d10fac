export * from "./abi/index.js";
export * from "./claims.js";
export * from "./collateral.js";
export * from "./formats.js";
export * from "./platform-id.js";
export * from "./policy.js";
export { INTEL_ROOT_FINGERPRINT, INTEL_ROOT_NAME } from "./roots.js";
export type { VerifiedQuote } from "./verify-quote.js";
