export type { NrasExpectedGpu } from "./appraise.js";
export { type NrasEat, parseNrasToken } from "./token.js";
export {
  NRAS_PRODUCTION_ISSUER,
  type NrasOptions,
  type NrasSubmodule,
  type VerifiedNras,
  verifyNrasToken,
} from "./verify.js";
