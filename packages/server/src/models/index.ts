export * from "./encryption/index.js";
export * from "./hashing/index.js";
export * from "./prepare.js";
export { createSigstoreKeylessVerifier } from "./sigstore-keyless.js";
export * from "./verify-on-disk.js";
