export * from "./cert-table.js";
export * from "./fields.js";
export * from "./product.js";
export * from "./report.js";
export * from "./tcb.js";
export type * from "./types.js";
