import { fromHex, fromUtf8 } from "../../bytes.js";
import { CloisterError } from "../../errors.js";
import type { Collateral, Evidence } from "../types.js";
import { parseCertTable } from "./abi/cert-table.js";
import { REPORT_SIZE } from "./abi/report.js";
import { isAzureEvidence } from "./azure/evidence.js";
import { hasHclMagic } from "./azure/hcl-report.js";
import { AZURE_SNP_VTPM_FORMAT, SNP_COLLATERAL, SNP_REPORT_FORMAT } from "./formats.js";

/** SEV-SNP evidence recognised in a file, with the collateral the file itself carried. */
export interface SnpEvidenceFile {
  /** How the file was read, for the reader: "raw report", "extended report", "Azure HCL report"… */
  readonly form: string;
  readonly evidence: Evidence;
  readonly collateral: Collateral;
}

/** The versions parseReport accepts (4 shares version 3's layout). */
const REPORT_VERSIONS = new Set([2, 3, 4, 5]);

/**
 * Recognises the shapes SEV-SNP evidence is stored in: the raw 1184-byte report, the same as hex
 * text, the report followed by the extended-report certificate table, and Azure's HCL report
 * (bare or in JSON with its vTPM quote). Returns undefined for anything else; the parsers behind
 * it report what exactly is wrong.
 */
export function sniffSnpEvidence(bytes: Uint8Array): SnpEvidenceFile | undefined {
  if (isAzureEvidence(bytes)) {
    return {
      form: hasHclMagic(bytes) ? "Azure HCL report" : "Azure vTPM evidence (JSON)",
      evidence: { platform: "sev-snp", format: AZURE_SNP_VTPM_FORMAT, data: bytes },
      collateral: {},
    };
  }
  const hex = hexReport(bytes);
  if (hex !== undefined) return rawReport(hex, "raw report (hex text)");
  if (!looksLikeReport(bytes)) return undefined;
  if (bytes.length === REPORT_SIZE) return rawReport(bytes, "raw report");
  const table = bytes.subarray(REPORT_SIZE);
  try {
    parseCertTable(table);
  } catch (error) {
    if (error instanceof CloisterError) return undefined;
    throw error;
  }
  return {
    form: "extended report (report + certificate table)",
    evidence: { platform: "sev-snp", format: SNP_REPORT_FORMAT, data: bytes.slice(0, REPORT_SIZE) },
    collateral: { [SNP_COLLATERAL.certTable]: table.slice() },
  };
}

function rawReport(report: Uint8Array, form: string): SnpEvidenceFile {
  return {
    form,
    evidence: { platform: "sev-snp", format: SNP_REPORT_FORMAT, data: report },
    collateral: {},
  };
}

function looksLikeReport(bytes: Uint8Array): boolean {
  if (bytes.length < REPORT_SIZE) return false;
  const version = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  return REPORT_VERSIONS.has(version);
}

function hexReport(bytes: Uint8Array): Uint8Array | undefined {
  // 1184 bytes of hex is 2368 characters; allow whitespace and line breaks around and between.
  if (bytes.length < REPORT_SIZE * 2 || bytes.length > REPORT_SIZE * 3) return undefined;
  if (!bytes.every(isHexOrSpace)) return undefined;
  const text = fromUtf8(bytes).replace(/\s+/g, "");
  const decoded = fromHex(text);
  return decoded !== undefined && looksLikeReport(decoded) && decoded.length === REPORT_SIZE
    ? decoded
    : undefined;
}

/** ASCII hex digits, space, tab, CR and LF: checked before decoding, as binary is rarely UTF-8. */
function isHexOrSpace(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) ||
    (byte >= 0x41 && byte <= 0x46) ||
    (byte >= 0x61 && byte <= 0x66) ||
    byte === 0x20 ||
    byte === 0x09 ||
    byte === 0x0a ||
    byte === 0x0d
  );
}
