export * from "./attest/index.js";
export * from "./bytes.js";
export * from "./errors.js";
