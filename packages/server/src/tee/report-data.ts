import { TeeError } from "./errors.js";

/** Every platform Cloister supports binds exactly 64 bytes: the SHA-512 manifest binding. */
export const REPORT_DATA_LENGTH = 64;

export function requireReportData(reportData: Uint8Array): Uint8Array {
  if (!(reportData instanceof Uint8Array) || reportData.length !== REPORT_DATA_LENGTH) {
    const got = reportData instanceof Uint8Array ? `${reportData.length} bytes` : typeof reportData;
    throw new TeeError(
      "tee.report_data",
      `Report data must be exactly ${REPORT_DATA_LENGTH} bytes, not ${got}.`,
    );
  }
  return reportData;
}
