import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import {
  CCA_TOKEN_FORMAT,
  CloisterError,
  type Collateral,
  type Evidence,
  type GpuEvidenceInput,
  isDcapQuote,
  PSA_TOKEN_FORMAT,
  parseGpuEvidenceInput,
  parseNrasToken,
  SGX_QUOTE_FORMAT,
  sniffSnpEvidence,
  TDX_QUOTE_FORMAT,
} from "@cloister/core";
import type { NrasEvidenceFile } from "./commands/attest-verify-nras.js";

/** Evidence recognised in a file, with the collateral the file itself carried. */
export interface EvidenceFile {
  /** How the file was read, for the reader: "raw report", "TDX quote"… */
  readonly form: string;
  readonly evidence: Evidence;
  readonly collateral: Collateral;
}

/**
 * NVIDIA GPU or NVSwitch evidence: not an `Evidence` of the CPU platforms, since a file may hold
 * several devices' evidences, each verified on its own.
 */
export interface GpuEvidenceFile {
  readonly form: string;
  readonly gpus: readonly GpuEvidenceInput[];
}

/** Recognises the evidence in a file; each platform adds its sniffer here. */
export async function readEvidenceFile(
  path: string,
): Promise<EvidenceFile | GpuEvidenceFile | NrasEvidenceFile> {
  const bytes = await readInput(path, "evidence");
  const found =
    sniffNrasToken(bytes) ??
    sniffGpuEvidence(bytes) ??
    sniffDcapQuote(bytes) ??
    sniffArmToken(bytes) ??
    sniffSnpEvidence(bytes);
  if (found === undefined) {
    throw new CloisterError(
      "evidence.unrecognised",
      `${path} is not evidence Cloister recognises (an SEV-SNP report, raw, hex or extended, an Azure HCL report or vTPM evidence JSON, an Intel TDX or SGX quote, an Arm PSA or CCA token, NVIDIA GPU evidence or an NVIDIA NRAS token).`,
    );
  }
  return found;
}

/** An NRAS result: the JSON array whose first element is ["JWT", "<overall token>"]. */
function sniffNrasToken(bytes: Uint8Array): NrasEvidenceFile | undefined {
  const head = Buffer.from(bytes.subarray(0, 64)).toString("latin1").replace(/\s/g, "");
  if (!head.startsWith('[["JWT"')) return undefined;
  const nras = parseNrasToken(Buffer.from(bytes).toString("utf8"));
  return { form: `NVIDIA NRAS token (${nras.detached.size} GPU token(s))`, nras };
}

/**
 * NVIDIA SPDM evidence by its first two bytes, GET_MEASUREMENTS in SPDM 1.1 (0x11 0xe0), raw or
 * as hex text, or the Attestation SDK's JSON (objects with `evidence` and `certificate`). No
 * other format starts so: the sniff claims nothing it would then fail to parse as another's.
 */
function sniffGpuEvidence(bytes: Uint8Array): GpuEvidenceFile | undefined {
  if (bytes[0] === 0x11 && bytes[1] === 0xe0) {
    return { form: "NVIDIA SPDM evidence (raw)", gpus: parseGpuEvidenceInput(bytes) };
  }
  const head = Buffer.from(bytes.subarray(0, 64)).toString("latin1").trimStart();
  if (/^11e0/i.test(head)) {
    return { form: "NVIDIA SPDM evidence (hex)", gpus: parseGpuEvidenceInput(bytes) };
  }
  if (!head.startsWith("{") && !head.startsWith("[")) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return undefined;
  }
  const first: unknown = Array.isArray(value) ? value[0] : value;
  if (typeof first !== "object" || first === null || !("evidence" in first)) return undefined;
  if (!("certificate" in first)) return undefined;
  const gpus = parseGpuEvidenceInput(bytes);
  return {
    form: `NVIDIA Attestation SDK JSON (${gpus.length} ${gpus.length === 1 ? "evidence" : "evidences"})`,
    gpus,
  };
}

/**
 * Arm tokens by their CBOR tag: 399 (CCA collection) or 907 (CMW collection) for CCA, 18
 * (COSE_Sign1) or 17 (COSE_Mac0) for a PSA token.
 */
function sniffArmToken(bytes: Uint8Array): EvidenceFile | undefined {
  const tag16 = bytes[0] === 0xd9 ? ((bytes[1] as number) << 8) | (bytes[2] as number) : undefined;
  if (tag16 === 399 || tag16 === 907) {
    return {
      form: `CCA token (CBOR tag ${tag16})`,
      evidence: { platform: "cca", format: CCA_TOKEN_FORMAT, data: bytes },
      collateral: {},
    };
  }
  if (bytes[0] === 0xd2 || bytes[0] === 0xd1) {
    return {
      form: bytes[0] === 0xd2 ? "PSA token (COSE_Sign1)" : "PSA token (COSE_Mac0)",
      evidence: { platform: "psa", format: PSA_TOKEN_FORMAT, data: bytes },
      collateral: {},
    };
  }
  return undefined;
}

function sniffDcapQuote(bytes: Uint8Array): EvidenceFile | undefined {
  if (!isDcapQuote(bytes)) return undefined;
  const version = bytes[0] as number;
  // TEE_TYPE (v4, v5) is 0x81 for TDX; v3 quotes are SGX only.
  const tdx = version >= 4 && bytes[4] === 0x81;
  return {
    form: `${tdx ? "TDX" : "SGX"} quote v${version}`,
    evidence: tdx
      ? { platform: "tdx", format: TDX_QUOTE_FORMAT, data: bytes }
      : { platform: "sgx", format: SGX_QUOTE_FORMAT, data: bytes },
    collateral: {},
  };
}

const CERTIFICATE_EXTENSIONS = new Set([".pem", ".der", ".crt", ".cer"]);

/**
 * Every certificate in the given files and directories (a directory means each PEM/DER file in
 * it), as one PEM text: the verifier takes a concatenation of PEM blocks.
 */
export async function readCertificates(paths: readonly string[]): Promise<string | undefined> {
  const blocks: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch((error: unknown) => {
      throw new CloisterError("input.unreadable", `Could not read ${path}.`, { cause: error });
    });
    const files = info.isDirectory()
      ? (await readdir(path))
          .filter((name) => CERTIFICATE_EXTENSIONS.has(extname(name).toLowerCase()))
          .sort()
          .map((name) => join(path, name))
      : [path];
    if (files.length === 0) {
      throw new CloisterError(
        "input.no_certificates",
        `${path} holds no .pem, .der, .crt or .cer file.`,
      );
    }
    for (const file of files) blocks.push(asPem(await readInput(file, "certificate")));
  }
  return blocks.length === 0 ? undefined : blocks.join("");
}

function asPem(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString("latin1");
  if (text.includes("-----BEGIN")) return `${text.trimEnd()}\n`;
  const body = Buffer.from(bytes)
    .toString("base64")
    .replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
}

export async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new CloisterError("input.unreadable", `Could not read the ${what} file ${path}.`, {
      cause: error,
    });
  }
}
