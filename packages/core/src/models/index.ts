export type {
  DsseEnvelope,
  DsseSignature,
  SigstoreBundle,
  VerificationMaterial,
} from "./bundle.js";
export { BUNDLE_MEDIA_TYPE_V03, parseSigstoreBundle } from "./bundle.js";
export { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from "./dsse.js";
export type { ModelFileDigest } from "./files.js";
export { compareModelFiles } from "./files.js";
export type { CertificateSummary, ModelSignatureSummary } from "./inspect.js";
export { inspectModelSignature } from "./inspect.js";
export { keyFingerprint, publicKeyHint, publicKeyPem } from "./keys.js";
export { compareResourceNames, normalizeResourceName } from "./paths.js";
export type { ModelSigningIdentity, SignModelOptions } from "./sign.js";
export { signModel } from "./sign.js";
export type { ModelResource, ModelSerialization, ModelStatement } from "./statement.js";
export {
  IN_TOTO_STATEMENT_TYPE,
  MODEL_SIGNATURE_PREDICATE_TYPE,
  parseModelStatement,
  resourcesDigest,
} from "./statement.js";
export type {
  KeylessSigner,
  KeylessVerifier,
  ModelSigningMethod,
  ModelTrust,
  ModelVerification,
  SigstoreIdentity,
  VerifyModelOptions,
} from "./types.js";
export { verifyModelSignature } from "./verify.js";
