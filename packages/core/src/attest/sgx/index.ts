export type { SgxPlatformClaims } from "./claims.js";
