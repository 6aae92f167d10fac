import { ParseError } from "../../../errors.js";

/**
 * The HCL attestation report an Azure confidential VM's paravisor (HCL) produces: a small
 * header, the hardware report, then the IGVM request data whose variable part is the runtime
 * JSON (the vTPM keys and VM configuration). The paravisor asks the firmware for the SNP report
 * with REPORT_DATA = hash(runtime JSON), which is what ties the vTPM to the hardware evidence.
 * Little-endian throughout.
 */

/** Which digest of the runtime data the paravisor put into REPORT_DATA. */
export type HclHashType = "sha256" | "sha384" | "sha512";

export interface HclReport {
  /** Header version (1 on Milan, 2 on the Genoa vector); informational. */
  readonly headerVersion: number;
  /** The number of bytes of the buffer the paravisor filled; the rest is padding. */
  readonly reportSize: number;
  readonly requestType: number;
  readonly status: number;
  /** The embedded SEV-SNP ATTESTATION_REPORT, exactly 1184 bytes. */
  readonly reportBytes: Uint8Array;
  /** IGVM report type: always 2 (SNP) here; TDX HCL reports (4) are refused. */
  readonly reportType: number;
  readonly requestDataVersion: number;
  readonly hashType: HclHashType;
  /** The runtime JSON exactly as stored: the hash is over these bytes, not a re-serialisation. */
  readonly runtimeData: Uint8Array;
}

export const HCL_MAGIC = new Uint8Array([0x48, 0x43, 0x4c, 0x41]); // "HCLA"
export const SNP_REPORT_OFFSET = 0x20;
export const SNP_REPORT_SIZE = 1184;
/** IGVM_REQUEST_DATA follows the hardware report area. */
export const REQUEST_DATA_OFFSET = SNP_REPORT_OFFSET + SNP_REPORT_SIZE; // 0x4C0
const REQUEST_DATA_HEADER_SIZE = 20;
export const RUNTIME_DATA_OFFSET = REQUEST_DATA_OFFSET + REQUEST_DATA_HEADER_SIZE; // 0x4D4
export const IGVM_REPORT_TYPE_SNP = 2;
const IGVM_REPORT_TYPE_TDX = 4;

const HASH_TYPES: Readonly<Record<number, HclHashType>> = {
  1: "sha256",
  2: "sha384",
  3: "sha512",
};

const CODE = "azure.hcl_report.malformed";

/** True when the bytes begin with the "HCLA" signature. */
export function hasHclMagic(bytes: Uint8Array): boolean {
  return HCL_MAGIC.every((b, i) => bytes[i] === b);
}

/** Total: returns a report or throws a ParseError naming the field and its offset. */
export function parseHclReport(bytes: Uint8Array): HclReport {
  if (bytes.length < RUNTIME_DATA_OFFSET) {
    throw new ParseError(
      CODE,
      "HCL report",
      `is ${bytes.length} bytes, shorter than its ${RUNTIME_DATA_OFFSET}-byte fixed part`,
      bytes.length,
    );
  }
  if (!hasHclMagic(bytes)) {
    throw new ParseError(CODE, "signature", 'is not "HCLA"', 0);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (offset: number) => view.getUint32(offset, true);

  const reportSize = u32(0x08);
  if (reportSize > bytes.length) {
    throw new ParseError(
      CODE,
      "report_size",
      `claims ${reportSize} bytes but only ${bytes.length} are present`,
      0x08,
    );
  }

  const dataSize = u32(REQUEST_DATA_OFFSET);
  const reportType = u32(REQUEST_DATA_OFFSET + 8);
  if (reportType !== IGVM_REPORT_TYPE_SNP) {
    const what = reportType === IGVM_REPORT_TYPE_TDX ? "a TDX report (4)" : `type ${reportType}`;
    throw new ParseError(
      CODE,
      "report_type",
      `is ${what}; only SEV-SNP (2) is accepted here`,
      REQUEST_DATA_OFFSET + 8,
    );
  }
  const hashType = HASH_TYPES[u32(REQUEST_DATA_OFFSET + 12)];
  if (hashType === undefined) {
    throw new ParseError(
      CODE,
      "report_data_hash_type",
      `is ${u32(REQUEST_DATA_OFFSET + 12)}; expected 1 (SHA-256), 2 (SHA-384) or 3 (SHA-512)`,
      REQUEST_DATA_OFFSET + 12,
    );
  }
  const variableSize = u32(REQUEST_DATA_OFFSET + 16);
  const runtimeEnd = RUNTIME_DATA_OFFSET + variableSize;
  // The runtime data must sit inside every length that claims to contain it: the buffer, the
  // paravisor's report size and the request data's own size.
  if (runtimeEnd > bytes.length || runtimeEnd > reportSize) {
    throw new ParseError(
      CODE,
      "variable_data_size",
      `${variableSize} runs past the end of the report`,
      REQUEST_DATA_OFFSET + 16,
    );
  }
  if (dataSize < REQUEST_DATA_HEADER_SIZE + variableSize) {
    throw new ParseError(
      CODE,
      "data_size",
      `${dataSize} is smaller than its header plus ${variableSize} bytes of variable data`,
      REQUEST_DATA_OFFSET,
    );
  }

  return {
    headerVersion: u32(0x04),
    reportSize,
    requestType: u32(0x0c),
    status: u32(0x10),
    reportBytes: bytes.slice(SNP_REPORT_OFFSET, REQUEST_DATA_OFFSET),
    reportType,
    requestDataVersion: u32(REQUEST_DATA_OFFSET + 4),
    hashType,
    runtimeData: bytes.slice(RUNTIME_DATA_OFFSET, runtimeEnd),
  };
}
