import { ParseError } from "../../../errors.js";
import { HEADER_SIZE, parseHeader } from "./header.js";
import {
  ENCLAVE_REPORT_BODY_SIZE,
  parseEnclaveReportBody,
  parseTdReportBody,
  TD10_REPORT_BODY_SIZE,
  TD15_REPORT_BODY_SIZE,
} from "./report-body.js";
import { parseSignatureData } from "./signature-data.js";
import type { Quote, QuoteHeader } from "./types.js";

/** Version 5 body types (TDX DCAP Quoting Library API, "Quote Body Descriptor"). */
const BODY_OF_TYPE: ReadonlyMap<number, { kind: BodyKind; size: number }> = new Map([
  [1, { kind: "sgx", size: ENCLAVE_REPORT_BODY_SIZE }],
  [2, { kind: "td10", size: TD10_REPORT_BODY_SIZE }],
  [3, { kind: "td15", size: TD15_REPORT_BODY_SIZE }],
]);

type BodyKind = "sgx" | "td10" | "td15";

const BODY_NAME: Readonly<Record<BodyKind, string>> = {
  sgx: "SGX report body",
  td10: "TDX 1.0 report body",
  td15: "TDX 1.5 report body",
};

/** Where the body lies and what it is; in version 5 a 6-byte descriptor precedes it. */
interface BodyLayout {
  readonly kind: BodyKind;
  readonly at: number;
  readonly size: number;
}

/**
 * Bytes -> Quote. Total: every input either parses or throws a ParseError naming the field
 * and its offset. It checks shape only; the signatures, the chain and the TCB are the
 * verifier's job.
 *
 * Lengths come from the sizes the quote declares, never from the input length: real quotes
 * arrive zero-padded to a buffer size or with text appended after the signature data, and
 * those trailing bytes are ignored. A declared size that overruns the input or its container
 * is refused.
 */
export function parseQuote(input: Uint8Array): Quote {
  // One private copy: later writes to the caller's buffer cannot change what was parsed. Not
  // input.slice(): on a Node Buffer that is a view, not a copy.
  const bytes = new Uint8Array(input);
  const header = parseHeader(bytes);
  const layout = bodyLayout(bytes, header);
  const bodyEnd = layout.at + layout.size;
  need(bytes, bodyEnd, "body", `the ${BODY_NAME[layout.kind]}`, layout.at);
  need(bytes, bodyEnd + 4, "signature_data.size", "the length", bodyEnd);
  const signatureDataSize = new DataView(bytes.buffer).getUint32(bodyEnd, true);
  const signatureDataAt = bodyEnd + 4;
  if (signatureDataSize > bytes.length - signatureDataAt) {
    throw new ParseError(
      "dcap.quote.signature_data",
      "signature_data.size",
      `declares ${signatureDataSize} bytes, but only ${bytes.length - signatureDataAt} follow`,
      bodyEnd,
    );
  }
  const signatureData = parseSignatureData(
    bytes,
    signatureDataAt,
    signatureDataAt + signatureDataSize,
    header.version,
  );
  const body = bytes.subarray(layout.at, bodyEnd);
  // Everything before the signature-data length: the header, the v5 descriptor, the body.
  const signedBytes = bytes.slice(0, bodyEnd);
  return layout.kind === "sgx"
    ? { teeType: "sgx", header, body: parseEnclaveReportBody(body), signatureData, signedBytes }
    : { teeType: "tdx", header, body: parseTdReportBody(body), signatureData, signedBytes };
}

/**
 * A cheap sniff for format detection: does this look like a DCAP ECDSA quote this parser
 * knows (version 3, 4 or 5, ECDSA P-256, a known TEE type and, in v5, a matching body type)?
 * It reads the first 54 bytes at most; a `true` says nothing about the rest.
 */
export function isDcapQuote(bytes: Uint8Array): boolean {
  try {
    bodyLayout(bytes, parseHeader(bytes));
    return true;
  } catch (error) {
    if (error instanceof ParseError) return false;
    throw error;
  }
}

/**
 * Versions 3 and 4 imply the body from the TEE type. Version 5 declares it, with a type and a
 * size, and both must agree with the TEE type and with each other: a TDX quote with an SGX
 * body, or a size that is not the type's, has no meaning the verifier could act on.
 */
function bodyLayout(bytes: Uint8Array, header: QuoteHeader): BodyLayout {
  if (header.version !== 5) {
    return header.teeType === "sgx"
      ? { kind: "sgx", at: HEADER_SIZE, size: ENCLAVE_REPORT_BODY_SIZE }
      : { kind: "td10", at: HEADER_SIZE, size: TD10_REPORT_BODY_SIZE };
  }
  need(bytes, HEADER_SIZE + 6, "body_descriptor", "the body type and size", HEADER_SIZE);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint16(HEADER_SIZE, true);
  const body = BODY_OF_TYPE.get(type);
  if (body === undefined) {
    throw new ParseError(
      "dcap.quote.body_type",
      "body_type",
      `must be 1 (SGX), 2 (TDX 1.0) or 3 (TDX 1.5), got ${type}`,
      HEADER_SIZE,
    );
  }
  if ((body.kind === "sgx") !== (header.teeType === "sgx")) {
    throw new ParseError(
      "dcap.quote.body_type",
      "body_type",
      `${type} (${BODY_NAME[body.kind]}) does not match the header's TEE type (${header.teeType.toUpperCase()})`,
      HEADER_SIZE,
    );
  }
  const size = view.getUint32(HEADER_SIZE + 2, true);
  if (size !== body.size) {
    throw new ParseError(
      "dcap.quote.body_size",
      "body_size",
      `must be ${body.size} for body type ${type}, got ${size}`,
      HEADER_SIZE + 2,
    );
  }
  return { kind: body.kind, at: HEADER_SIZE + 6, size };
}

/** Refuses an input that ends before `end`; `what` names what did not fit, for the message. */
function need(bytes: Uint8Array, end: number, field: string, what: string, at: number): void {
  if (bytes.length < end) {
    throw new ParseError(
      "dcap.quote.length",
      field,
      `the quote ends at ${bytes.length}, before ${what} ends at ${end}`,
      Math.min(at, bytes.length),
    );
  }
}
