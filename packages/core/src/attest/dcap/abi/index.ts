export { ECDSA_P256, HEADER_SIZE, parseHeader, TEE_TYPE_OF } from "./header.js";
export { isDcapQuote, parseQuote } from "./quote.js";
export {
  ENCLAVE_REPORT_BODY_SIZE,
  parseEnclaveReportBody,
  parseTdReportBody,
  TD10_REPORT_BODY_SIZE,
  TD15_REPORT_BODY_SIZE,
} from "./report-body.js";
export { CERT_TYPE_PCK_CHAIN, CERT_TYPE_QE_REPORT } from "./signature-data.js";
export type * from "./types.js";
