export * from "./appraise.js";
export * from "./claims.js";
export * from "./encode.js";
export * from "./endorsements.js";
export * from "./formats.js";
export * from "./policy.js";
export {
  type PsaToken,
  parsePsaToken,
  psaMeasurement,
  psaPlatformClaims,
  psaVerifier,
} from "./verify.js";
