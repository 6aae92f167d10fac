export * from "./codes.js";
export * from "./file-key.js";
export * from "./format.js";
export * from "./nonce.js";
