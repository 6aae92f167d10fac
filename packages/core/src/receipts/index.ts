export * from "./receipt.js";
export * from "./verify.js";
