/** Azure confidential VM (SEV-SNP behind a paravisor with a vTPM): parsing and binding checks. */
export { type AzureBinding, checkAzureNonce, verifyAzureBinding } from "./binding.js";
export {
  type AzureEvidence,
  type AzureQuote,
  isAzureEvidence,
  parseAzureEvidence,
} from "./evidence.js";
export { type HclHashType, type HclReport, parseHclReport } from "./hcl-report.js";
export { parseRuntimeData, type RuntimeData } from "./runtime-data.js";
export {
  type PcrSelection,
  parseTpmQuote,
  rsaSignatureBytes,
  type TpmQuote,
  verifyTpmQuote,
} from "./tpm-quote.js";
