import { randomUUID } from "node:crypto";
import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CCA_TOKEN_FORMAT,
  type Collateral,
  fromUtf8,
  type Platform,
  SNP_COLLATERAL,
  SNP_REPORT_FORMAT,
  TDX_QUOTE_FORMAT,
  utf8,
} from "@cloister/core";
import { readCcel } from "./ccel.js";
import { errnoOf, fileError, TeeError } from "./errors.js";
import { plainBytes } from "./plain-bytes.js";
import type { EvidenceProvider, ProducedEvidence } from "./provider.js";
import { requireReportData } from "./report-data.js";

/**
 * The Linux configfs-tsm report interface (Documentation/ABI/testing/configfs-tsm, Linux 6.7+):
 * one interface for SEV-SNP, TDX and CCA guests. A report entry is a directory made with mkdir;
 * writing `inblob` sets the report data, reading `outblob` makes the kernel produce the evidence.
 */
export const CONFIGFS_TSM_ROOT = "/sys/kernel/config/tsm/report";

/** The file operations the provider performs, so tests can stand in for the kernel. */
export interface ConfigfsFiles {
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  read(path: string): Promise<Uint8Array>;
  write(path: string, data: Uint8Array): Promise<void>;
}

export const kernelConfigfs: ConfigfsFiles = {
  mkdir: async (path) => {
    await mkdir(path);
  },
  rmdir: (path) => rmdir(path),
  read: (path) => readFile(path),
  // One open-write-close: configfs binary attributes take the value when the file is closed.
  write: (path, data) => writeFile(path, data),
};

/** What a configfs-tsm `provider` produces. */
export interface TsmFormat {
  readonly platform: Platform;
  readonly format: string;
  /** The collateral name under which `auxblob`, when present, is handed on. */
  readonly auxblob?: string;
  /** A trust domain hands on its boot event log (CCEL) too. */
  readonly eventLog?: true;
}

export const TSM_PROVIDERS: ReadonlyMap<string, TsmFormat> = new Map([
  // auxblob is the GHCB MSG_REPORT_REQ certificate table (VCEK and its chain) when the host has one.
  [
    "sev_guest",
    { platform: "sev-snp", format: SNP_REPORT_FORMAT, auxblob: SNP_COLLATERAL.certTable },
  ],
  ["tdx_guest", { platform: "tdx", format: TDX_QUOTE_FORMAT, eventLog: true }],
  // CCA accepts a 32 to 64 byte challenge; Cloister always gives 64.
  ["arm_cca_guest", { platform: "cca", format: CCA_TOKEN_FORMAT }],
]);

export interface ConfigfsTsmOptions {
  /** Defaults to CONFIGFS_TSM_ROOT. */
  readonly root?: string;
  /** SEV-SNP VMPL (0-3) to request, for guests under an SVSM; left to the kernel when absent. */
  readonly privlevel?: number;
  /** Defaults to the real file system; tests pass a fake kernel. */
  readonly files?: ConfigfsFiles;
  /** Where the ACPI tables are, for a TD's CCEL event log; defaults to ACPI_TABLES_ROOT. */
  readonly acpiTables?: string;
}

export interface ConfigfsTsmProvider extends EvidenceProvider {
  /** The kernel's name for the TSM, e.g. "sev_guest". */
  readonly tsmProvider: string;
}

/** A concurrent writer is rare; a few tries separate bad luck from a persistent interferer. */
const MAX_ATTEMPTS = 3;
const PRIVLEVEL_MAX = 3;

/**
 * Opens configfs-tsm at `root`: makes a probe entry to learn which TSM the kernel has, and
 * refuses a TSM whose evidence Cloister cannot name.
 */
export async function configfsTsmProvider(
  options: ConfigfsTsmOptions = {},
): Promise<ConfigfsTsmProvider> {
  const root = options.root ?? CONFIGFS_TSM_ROOT;
  const files = options.files ?? kernelConfigfs;
  const privlevel = options.privlevel;
  if (
    privlevel !== undefined &&
    !(Number.isInteger(privlevel) && privlevel >= 0 && privlevel <= PRIVLEVEL_MAX)
  ) {
    throw new TeeError(
      "tee.configfs_privlevel",
      `The configfs-tsm privlevel must be an integer from 0 to ${PRIVLEVEL_MAX}.`,
    );
  }
  const tsmProvider = await withEntry(files, root, (entry) =>
    readText(files, join(entry, "provider")),
  );
  const format = TSM_PROVIDERS.get(tsmProvider);
  if (format === undefined) {
    throw new TeeError(
      "tee.configfs_provider_unknown",
      `configfs-tsm at ${root} has provider ${JSON.stringify(tsmProvider.slice(0, 64))}, which Cloister does not support (it knows ${[...TSM_PROVIDERS.keys()].join(", ")}).`,
    );
  }
  // The event log only grows at boot; read once, it goes with every quote.
  const eventLog = format.eventLog === true ? await readCcel(options.acpiTables) : {};
  return {
    platform: format.platform,
    description: `configfs-tsm (${tsmProvider}) at ${root}`,
    tsmProvider,
    async getEvidence(reportData) {
      const inblob = requireReportData(reportData);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const blobs = await requestReport(files, root, inblob, privlevel);
        if (blobs !== undefined) {
          const evidence = produced(format, blobs);
          return { ...evidence, collateral: { ...eventLog, ...evidence.collateral } };
        }
      }
      throw new TeeError(
        "tee.configfs_generation",
        `Another writer changed the configfs-tsm report under ${root} during each of ${MAX_ATTEMPTS} attempts.`,
      );
    },
  };
}

interface Blobs {
  readonly outblob: Uint8Array;
  readonly auxblob: Uint8Array | undefined;
}

/**
 * One request in a fresh entry. The kernel adds one to `generation` on every write to an
 * attribute, so any other difference between before and after means someone else wrote to the
 * entry between our writes and our reads, and the evidence may carry their report data: the
 * result is then undefined and the caller tries again.
 */
async function requestReport(
  files: ConfigfsFiles,
  root: string,
  inblob: Uint8Array,
  privlevel: number | undefined,
): Promise<Blobs | undefined> {
  return withEntry(files, root, async (entry) => {
    const before = await readGeneration(files, entry);
    await writeAttribute(files, join(entry, "inblob"), inblob);
    let writes = 1n;
    if (privlevel !== undefined) {
      await writeAttribute(files, join(entry, "privlevel"), utf8(String(privlevel)));
      writes += 1n;
    }
    const outblob = await readAttribute(files, join(entry, "outblob"));
    const auxblob = await readOptional(files, join(entry, "auxblob"));
    const after = await readGeneration(files, entry);
    if (after !== before + writes) return undefined;
    if (outblob.length === 0) {
      throw new TeeError(
        "tee.configfs_empty",
        `configfs-tsm returned an empty outblob in ${entry}.`,
      );
    }
    return { outblob, auxblob };
  });
}

function produced(format: TsmFormat, blobs: Blobs): ProducedEvidence {
  const collateral: Collateral =
    format.auxblob !== undefined && blobs.auxblob !== undefined && blobs.auxblob.length > 0
      ? { [format.auxblob]: blobs.auxblob }
      : {};
  return {
    evidence: { platform: format.platform, format: format.format, data: blobs.outblob },
    collateral,
  };
}

/**
 * A fresh entry per request, as the kernel documentation suggests, keeps concurrent requesters
 * (in this process or another) out of each other's way.
 */
async function withEntry<T>(
  files: ConfigfsFiles,
  root: string,
  use: (entry: string) => Promise<T>,
): Promise<T> {
  const entry = join(root, `cloister-${randomUUID()}`);
  try {
    await files.mkdir(entry);
  } catch (error) {
    throw mkdirError(root, entry, error);
  }
  try {
    return await use(entry);
  } finally {
    // A leftover entry costs the kernel a few bytes and does not spoil the evidence already read.
    await files.rmdir(entry).catch(() => undefined);
  }
}

function mkdirError(root: string, entry: string, error: unknown): TeeError {
  switch (errnoOf(error)) {
    case "ENOENT":
      return new TeeError(
        "tee.configfs_unavailable",
        `There is no configfs-tsm report directory at ${root}.`,
        { cause: error },
      );
    case "ENXIO":
      return new TeeError(
        "tee.configfs_no_provider",
        `configfs-tsm at ${root} has no TSM provider: no sev-guest, tdx-guest or arm-cca-guest driver is loaded.`,
        { cause: error },
      );
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return new TeeError(
        "tee.configfs_permission",
        `Cloister may not create report entries in ${root} (${errnoOf(error)}); run it as root or grant it write access there.`,
        { cause: error },
      );
    default:
      return fileError("tee.configfs_io", "Creating the report entry", entry, error);
  }
}

async function readGeneration(files: ConfigfsFiles, entry: string): Promise<bigint> {
  const path = join(entry, "generation");
  const text = await readText(files, path);
  if (!/^\d+$/.test(text)) {
    throw new TeeError("tee.configfs_io", `${path} does not hold a generation number.`);
  }
  return BigInt(text);
}

async function readText(files: ConfigfsFiles, path: string): Promise<string> {
  const bytes = await readAttribute(files, path);
  try {
    return fromUtf8(bytes).trim();
  } catch {
    throw new TeeError("tee.configfs_io", `${path} does not hold text.`);
  }
}

async function readAttribute(files: ConfigfsFiles, path: string): Promise<Uint8Array> {
  try {
    return plainBytes(await files.read(path));
  } catch (error) {
    throw fileError("tee.configfs_io", "Reading", path, error);
  }
}

/** auxblob is absent for TSMs that have nothing to add (TDX) and may be empty (SNP without certs). */
async function readOptional(files: ConfigfsFiles, path: string): Promise<Uint8Array | undefined> {
  try {
    return plainBytes(await files.read(path));
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw fileError("tee.configfs_io", "Reading", path, error);
  }
}

async function writeAttribute(files: ConfigfsFiles, path: string, data: Uint8Array): Promise<void> {
  try {
    await files.write(path, data);
  } catch (error) {
    throw fileError("tee.configfs_io", "Writing", path, error);
  }
}
