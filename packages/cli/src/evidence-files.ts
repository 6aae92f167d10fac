import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import {
  CCA_TOKEN_FORMAT,
  CloisterError,
  type Collateral,
  type Evidence,
  isDcapQuote,
  PSA_TOKEN_FORMAT,
  SGX_QUOTE_FORMAT,
  sniffSnpEvidence,
  TDX_QUOTE_FORMAT,
} from "@cloister/core";

/** Evidence recognised in a file, with the collateral the file itself carried. */
export interface EvidenceFile {
  /** How the file was read, for the reader: "raw report", "TDX quote"… */
  readonly form: string;
  readonly evidence: Evidence;
  readonly collateral: Collateral;
}

/** Recognises the evidence in a file; each platform adds its sniffer here. */
export async function readEvidenceFile(path: string): Promise<EvidenceFile> {
  const bytes = await readInput(path, "evidence");
  const found = sniffDcapQuote(bytes) ?? sniffArmToken(bytes) ?? sniffSnpEvidence(bytes);
  if (found === undefined) {
    throw new CloisterError(
      "evidence.unrecognised",
      `${path} is not evidence Cloister recognises (an SEV-SNP report, raw, hex or extended, an Azure HCL report or vTPM evidence JSON, an Intel TDX or SGX quote, or an Arm PSA or CCA token).`,
    );
  }
  return found;
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
