import { ParseError } from "../../../errors.js";
import type { EnclaveReportBody, TdReportBody } from "./types.js";

/** SGX REPORT body: the enclave in an SGX quote, and the QE's own report in every quote. */
export const ENCLAVE_REPORT_BODY_SIZE = 384;
/** TDX 1.0 TD report body (quote v4, and v5 body type 2). */
export const TD10_REPORT_BODY_SIZE = 584;
/** TDX 1.5 TD report body (quote v5 body type 3): TD 1.0 plus TEE_TCB_SVN2 and MRSERVICETD. */
export const TD15_REPORT_BODY_SIZE = 648;

/**
 * Exactly 384 bytes -> EnclaveReportBody. Every field is fixed-size raw bytes, so the length is
 * the only thing that can be wrong; reserved regions are skipped, not required to be zero.
 */
export function parseEnclaveReportBody(input: Uint8Array): EnclaveReportBody {
  if (input.length !== ENCLAVE_REPORT_BODY_SIZE) {
    throw new ParseError(
      "dcap.quote.length",
      "enclave_report_body",
      `must be exactly ${ENCLAVE_REPORT_BODY_SIZE} bytes, got ${input.length}`,
      Math.min(input.length, ENCLAVE_REPORT_BODY_SIZE),
    );
  }
  // A private copy, so that the caller's later writes cannot change what was parsed (and a
  // plain Uint8Array even when the input is a Node Buffer, whose slice() would share memory).
  const bytes = new Uint8Array(input);
  const view = new DataView(bytes.buffer);
  const copy = (offset: number, length: number) => bytes.slice(offset, offset + length);
  return {
    cpuSvn: copy(0, 16),
    miscSelect: view.getUint32(16, true),
    isvExtProdId: copy(32, 16),
    attributes: {
      flags: view.getBigUint64(48, true),
      xfrm: view.getBigUint64(56, true),
      raw: copy(48, 16),
    },
    mrEnclave: copy(64, 32),
    mrSigner: copy(128, 32),
    configId: copy(192, 64),
    isvProdId: view.getUint16(256, true),
    isvSvn: view.getUint16(258, true),
    configSvn: view.getUint16(260, true),
    isvFamilyId: copy(304, 16),
    reportData: copy(320, 64),
    bytes,
  };
}

/**
 * A TD report body -> TdReportBody; its length says which: 584 bytes is TDX 1.0, 648 bytes is
 * TDX 1.5. The quote parser has already matched the length to the body type the quote declares.
 */
export function parseTdReportBody(input: Uint8Array): TdReportBody {
  if (input.length !== TD10_REPORT_BODY_SIZE && input.length !== TD15_REPORT_BODY_SIZE) {
    throw new ParseError(
      "dcap.quote.length",
      "td_report_body",
      `must be ${TD10_REPORT_BODY_SIZE} (TDX 1.0) or ${TD15_REPORT_BODY_SIZE} (TDX 1.5) bytes, got ${input.length}`,
      Math.min(input.length, TD15_REPORT_BODY_SIZE),
    );
  }
  const bytes = new Uint8Array(input);
  const view = new DataView(bytes.buffer);
  const copy = (offset: number, length: number) => bytes.slice(offset, offset + length);
  const word = (offset: number) => ({
    value: view.getBigUint64(offset, true),
    raw: copy(offset, 8),
  });
  const body: TdReportBody = {
    kind: bytes.length === TD15_REPORT_BODY_SIZE ? "td15" : "td10",
    teeTcbSvn: copy(0, 16),
    mrSeam: copy(16, 48),
    mrSignerSeam: copy(64, 48),
    seamAttributes: copy(112, 8),
    tdAttributes: word(120),
    xfam: word(128),
    mrTd: copy(136, 48),
    mrConfigId: copy(184, 48),
    mrOwner: copy(232, 48),
    mrOwnerConfig: copy(280, 48),
    rtmrs: [copy(328, 48), copy(376, 48), copy(424, 48), copy(472, 48)],
    reportData: copy(520, 64),
  };
  return body.kind === "td15"
    ? { ...body, teeTcbSvn2: copy(584, 16), mrServiceTd: copy(600, 48) }
    : body;
}
