import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fromUtf8, SGX_QUOTE_FORMAT } from "@cloister/core";
import { errnoOf, fileError, TeeError } from "./errors.js";
import { plainBytes } from "./plain-bytes.js";
import type { EvidenceProvider, ProducedEvidence } from "./provider.js";
import { requireReportData } from "./report-data.js";

/**
 * Gramine's attestation pseudo-files inside an SGX enclave: write 64 bytes to
 * `user_report_data`, read an SGX DCAP quote over them from `quote`.
 */
export const GRAMINE_ATTESTATION_ROOT = "/dev/attestation";

export interface GramineOptions {
  /** Defaults to GRAMINE_ATTESTATION_ROOT. */
  readonly root?: string;
}

/** Opens Gramine's /dev/attestation, refusing anything but DCAP (EPID quotes have no future). */
export async function gramineProvider(options: GramineOptions = {}): Promise<EvidenceProvider> {
  const root = options.root ?? GRAMINE_ATTESTATION_ROOT;
  const type = await readAttestationType(root);
  if (type !== "dcap") {
    throw new TeeError(
      "tee.gramine_attestation_type",
      `Gramine at ${root} offers attestation type ${JSON.stringify(type.slice(0, 32))}; Cloister needs "dcap" (set sgx.remote_attestation = "dcap" in the Gramine manifest).`,
    );
  }
  // user_report_data and quote are one slot per process: requests take turns so that no quote
  // is read after another request overwrote the report data it should carry.
  let turn: Promise<unknown> = Promise.resolve();
  return {
    platform: "sgx",
    description: `Gramine ${root} (SGX DCAP)`,
    async getEvidence(reportData) {
      const data = requireReportData(reportData);
      const result = turn.then(() => quote(root, data));
      turn = result.catch(() => undefined);
      return result;
    },
  };
}

/** The attestation type Gramine reports ("none", "epid" or "dcap"). */
export async function readAttestationType(root: string): Promise<string> {
  const path = join(root, "attestation_type");
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") {
      throw new TeeError(
        "tee.gramine_unavailable",
        `There is no Gramine attestation interface at ${root}: Cloister is not running inside a Gramine SGX enclave.`,
        { cause: error },
      );
    }
    throw fileError("tee.gramine_io", "Reading", path, error);
  }
  try {
    return fromUtf8(bytes).trim();
  } catch {
    throw new TeeError("tee.gramine_io", `${path} does not hold text.`);
  }
}

async function quote(root: string, reportData: Uint8Array): Promise<ProducedEvidence> {
  const reportDataPath = join(root, "user_report_data");
  try {
    await writeFile(reportDataPath, reportData);
  } catch (error) {
    throw fileError("tee.gramine_io", "Writing", reportDataPath, error);
  }
  const quotePath = join(root, "quote");
  let data: Uint8Array;
  try {
    data = plainBytes(await readFile(quotePath));
  } catch (error) {
    throw fileError("tee.gramine_io", "Reading", quotePath, error);
  }
  if (data.length === 0) {
    throw new TeeError("tee.gramine_io", `Gramine returned an empty quote from ${quotePath}.`);
  }
  return { evidence: { platform: "sgx", format: SGX_QUOTE_FORMAT, data }, collateral: {} };
}
