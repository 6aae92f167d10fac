import { fromBase64Url, fromHex, fromUtf8 } from "../../../bytes.js";
import { ParseError } from "../../../errors.js";
import {
  type HclReport,
  hasHclMagic,
  IGVM_REPORT_TYPE_SNP,
  parseHclReport,
  REQUEST_DATA_OFFSET,
} from "./hcl-report.js";
import { parseRuntimeData, type RuntimeData } from "./runtime-data.js";
import { parseTpmQuote, type TpmQuote } from "./tpm-quote.js";

/**
 * Azure confidential VM evidence as it travels: either the bare HCL report, or a JSON envelope
 * that adds the vTPM quote (the only place a verifier's nonce can go) and the VCEK. Two JSON
 * dialects exist in the wild:
 *   {version, tpm_quote: {signature, message: hex, pcrs: [hex]}, hcl_report: base64, vcek: base64 DER}
 *   {quote: {signature, message: [bytes], pcrs: [[bytes]]}, report: [bytes], vcek: PEM}
 * Each byte field is accepted in either encoding (hex or base64 text, or an array of numbers).
 */
export interface AzureEvidence {
  readonly hcl: HclReport;
  readonly runtime: RuntimeData;
  readonly quote?: AzureQuote;
  /** DER bytes or PEM text, whatever the envelope carries. */
  readonly vcek?: Uint8Array | string;
}

export interface AzureQuote {
  /** The TPMS_ATTEST bytes the signature covers. */
  readonly message: Uint8Array;
  /** Raw RSA signature or TPMT_SIGNATURE, as carried. */
  readonly signature: Uint8Array;
  /** SHA-256 bank PCR values, indexed by PCR number. */
  readonly pcrs: readonly Uint8Array[];
  /** `message` decoded. */
  readonly attest: TpmQuote;
}

const CODE = "azure.evidence.malformed";
const SHA256_SIZE = 32;
const OPEN_BRACE = 0x7b;

/** Total: returns the evidence or throws a ParseError naming the field. */
export function parseAzureEvidence(bytes: Uint8Array): AzureEvidence {
  if (hasHclMagic(bytes)) return fromHcl(bytes);
  const json = parseJsonObject(bytes);
  if (json === undefined) {
    throw new ParseError(CODE, "Azure evidence", 'is neither an "HCLA" report nor a JSON object');
  }
  const hclField = "hcl_report" in json ? "hcl_report" : "report";
  const evidence = fromHcl(decodeBytes(json[hclField], hclField, "base64"));

  const quoteField = "tpm_quote" in json ? "tpm_quote" : "quote";
  const quote =
    json[quoteField] === undefined ? undefined : decodeQuote(json[quoteField], quoteField);
  const vcek = json.vcek === undefined ? undefined : decodeVcek(json.vcek);
  return {
    ...evidence,
    ...(quote === undefined ? {} : { quote }),
    ...(vcek === undefined ? {} : { vcek }),
  };
}

/**
 * A cheap look at the shape, for choosing a parser: an "HCLA" report that is not a TDX one, or
 * a JSON object with an SNP HCL report in one of the two envelopes. Malformed content still
 * answers true, so that the Azure parser, not a wrong one, explains what is wrong.
 */
export function isAzureEvidence(bytes: Uint8Array): boolean {
  if (hasHclMagic(bytes)) {
    if (bytes.length < REQUEST_DATA_OFFSET + 12) return true;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return view.getUint32(REQUEST_DATA_OFFSET + 8, true) === IGVM_REPORT_TYPE_SNP;
  }
  const json = parseJsonObject(bytes);
  if (json === undefined || "td_quote" in json) return false;
  return "hcl_report" in json || ("report" in json && "quote" in json);
}

function fromHcl(bytes: Uint8Array): { hcl: HclReport; runtime: RuntimeData } {
  const hcl = parseHclReport(bytes);
  return { hcl, runtime: parseRuntimeData(hcl.runtimeData) };
}

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  const first = bytes.find((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d);
  if (first !== OPEN_BRACE) return undefined;
  try {
    const json: unknown = JSON.parse(fromUtf8(bytes));
    return isRecord(json) ? json : undefined;
  } catch {
    return undefined;
  }
}

function decodeQuote(value: unknown, field: string): AzureQuote {
  if (!isRecord(value)) throw new ParseError(CODE, field, "is not a JSON object");
  const message = decodeBytes(value.message, `${field}.message`, "hex");
  if (value.signature === undefined) {
    throw new ParseError(
      CODE,
      `${field}.signature`,
      "is missing; an unsigned quote proves nothing",
    );
  }
  const signature = decodeBytes(value.signature, `${field}.signature`, "hex");
  const pcrList = value.pcrs ?? [];
  if (!Array.isArray(pcrList)) throw new ParseError(CODE, `${field}.pcrs`, "is not an array");
  const pcrs = pcrList.map((pcr, i) => {
    const bytes = decodeBytes(pcr, `${field}.pcrs[${i}]`, "hex");
    if (bytes.length !== SHA256_SIZE) {
      throw new ParseError(CODE, `${field}.pcrs[${i}]`, "is not a 32-byte SHA-256 PCR value");
    }
    return bytes;
  });
  return { message, signature, pcrs, attest: parseTpmQuote(message) };
}

/** PEM stays text (it may hold the whole chain); anything else is DER in base64 or numbers. */
function decodeVcek(value: unknown): Uint8Array | string {
  if (typeof value === "string" && value.includes("-----BEGIN")) return value;
  return decodeBytes(value, "vcek", "base64");
}

/** A byte string as text in the field's usual encoding, or as a JSON array of 0-255 numbers. */
function decodeBytes(value: unknown, field: string, text: "hex" | "base64"): Uint8Array {
  if (Array.isArray(value)) {
    if (!value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
      throw new ParseError(CODE, field, "is not an array of byte values 0-255");
    }
    return Uint8Array.from(value as number[]);
  }
  if (typeof value !== "string") {
    throw new ParseError(CODE, field, `is missing or not ${text} text or a byte array`);
  }
  const bytes =
    text === "hex"
      ? fromHex(value)
      : fromBase64Url(value.replace(/\s+/g, "").replaceAll("+", "-").replaceAll("/", "_"));
  if (bytes === undefined) throw new ParseError(CODE, field, `is not valid ${text}`);
  return bytes;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
