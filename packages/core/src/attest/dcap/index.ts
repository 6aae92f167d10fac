export * from "./formats.js";
export * from "./policy.js";
