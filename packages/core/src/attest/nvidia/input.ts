import { fromBase64Url, fromHex, fromUtf8 } from "../../bytes.js";
import { ParseError } from "../../errors.js";

const CODE = "nvidia.input.malformed";

/**
 * One device's evidence as a collector hands it over. Only `evidence` and `certChain` are
 * checked by verification; the rest is what the collector says and is for cross-checking.
 */
export interface GpuEvidenceInput {
  /** GET_MEASUREMENTS request ‖ response, not yet parsed. */
  readonly evidence: Uint8Array;
  /** PEM bundle, leaf first; absent when the input was bare hex or bytes. */
  readonly certChain?: string;
  readonly declared: {
    readonly arch?: string;
    readonly nonce?: string;
    readonly driverVersion?: string;
    readonly vbiosVersion?: string;
  };
}

/**
 * Accepts the forms NVIDIA's tools write: the raw SPDM bytes, their hex text (nvtrust's
 * samples), or the Attestation SDK's JSON (one object or an array of them, with base64
 * `evidence` and `certificate`, the latter being base64 of a PEM bundle).
 */
export function parseGpuEvidenceInput(input: Uint8Array | string): GpuEvidenceInput[] {
  if (typeof input !== "string" && input[0] === 0x11) return [{ evidence: input, declared: {} }];
  let text: string;
  try {
    text = typeof input === "string" ? input : fromUtf8(input);
  } catch {
    throw new ParseError(CODE, "input", "is neither SPDM bytes nor text");
  }
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) return fromJson(trimmed);
  const bytes = fromHex(trimmed.replace(/\s+/g, ""));
  if (bytes === undefined || bytes.length === 0) {
    throw new ParseError(CODE, "input", "is neither SPDM bytes, hex text nor evidence JSON");
  }
  return [{ evidence: bytes, declared: {} }];
}

function fromJson(text: string): GpuEvidenceInput[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ParseError(CODE, "input", "is not valid JSON");
  }
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) throw new ParseError(CODE, "input", "is an empty list of evidences");
  return items.map((item, i) => fromObject(item, `evidence ${i + 1}`));
}

function fromObject(item: unknown, where: string): GpuEvidenceInput {
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    throw new ParseError(CODE, where, "is not an object");
  }
  const record = item as Record<string, unknown>;
  const evidence = base64(record.evidence, `${where} evidence`);
  const certificate = base64(record.certificate, `${where} certificate`);
  let certChain: string;
  try {
    certChain = fromUtf8(certificate);
  } catch {
    throw new ParseError(CODE, `${where} certificate`, "is not base64 of a PEM bundle");
  }
  const declared: Record<string, string> = {};
  for (const [key, name] of [
    ["arch", "arch"],
    ["nonce", "nonce"],
    ["driver_version", "driverVersion"],
    ["vbios_version", "vbiosVersion"],
  ] as const) {
    const field = record[key];
    if (field === undefined) continue;
    if (typeof field !== "string") throw new ParseError(CODE, `${where} ${key}`, "is not a string");
    declared[name] = field;
  }
  return { evidence, certChain, declared };
}

function base64(value: unknown, field: string): Uint8Array {
  const bytes =
    typeof value === "string"
      ? fromBase64Url(value.replace(/\s+/g, "").replaceAll("+", "-").replaceAll("/", "_"))
      : undefined;
  if (bytes === undefined || bytes.length === 0) {
    throw new ParseError(CODE, field, "is not a non-empty base64 string");
  }
  return bytes;
}
