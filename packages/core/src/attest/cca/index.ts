export * from "./appraise.js";
export * from "./claims.js";
export * from "./formats.js";
export * from "./platform-keys.js";
export * from "./policy.js";
export * from "./reference-values.js";
export * from "./token.js";
export * from "./verify.js";
