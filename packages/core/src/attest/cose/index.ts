export * from "./keys.js";
export * from "./sign1.js";
