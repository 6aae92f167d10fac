export * from "./binding.js";
export * from "./bundle.js";
export * from "./canonical-json.js";
export * from "./manifest.js";
export * from "./verify-workload.js";
