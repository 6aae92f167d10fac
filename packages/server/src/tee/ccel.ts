import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Collateral, DCAP_COLLATERAL } from "@cloister/core";
import { errnoOf, fileError } from "./errors.js";
import { plainBytes } from "./plain-bytes.js";

/** Where Linux exposes ACPI tables; the CCEL event log's data sits under data/. */
export const ACPI_TABLES_ROOT = "/sys/firmware/acpi/tables";

/**
 * A trust domain's boot event log: the ACPI CCEL table and the log it points to. Handing both on
 * with every TDX quote lets a relying party replay RTMR0–2 and pin what was booted (kernel,
 * command line) instead of opaque hashes. Absent on kernels or firmware without CCEL: then the
 * quote travels alone.
 */
export async function readCcel(root: string = ACPI_TABLES_ROOT): Promise<Collateral> {
  const table = await readIfPresent(join(root, "CCEL"));
  const data = await readIfPresent(join(root, "data", "CCEL"));
  if (table === undefined || data === undefined) return {};
  return { [DCAP_COLLATERAL.ccelTable]: table, [DCAP_COLLATERAL.ccelData]: data };
}

async function readIfPresent(path: string): Promise<Uint8Array | undefined> {
  try {
    return plainBytes(await readFile(path));
  } catch (error) {
    // The log is optional: absent, or readable by root only (as on most distributions) when
    // Cloister runs unprivileged, the quote goes alone and clients can still verify it.
    const errno = errnoOf(error);
    if (errno === "ENOENT" || errno === "EACCES" || errno === "EPERM") return undefined;
    throw fileError("tee.ccel_io", "Reading", path, error);
  }
}
