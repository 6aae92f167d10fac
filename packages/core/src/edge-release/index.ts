export * from "./binding.js";
export * from "./key-wrap.js";
export * from "./protocol.js";
