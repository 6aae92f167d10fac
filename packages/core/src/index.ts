export * from "./attest/index.js";
export * from "./bytes.js";
export * from "./channel/index.js";
export * from "./endpoints.js";
export * from "./errors.js";
export * from "./manifest/index.js";
export * from "./receipts/index.js";
