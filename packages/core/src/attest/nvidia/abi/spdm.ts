import { ParseError } from "../../../errors.js";
import { parseOpaqueData } from "./opaque.js";
import { opaqueValues } from "./opaque-values.js";
import { MALFORMED, Reader } from "./reader.js";
import type {
  DmtfMeasurementKind,
  GpuEvidence,
  MeasurementBlock,
  SpdmMeasurementsRequest,
  SpdmMeasurementsResponse,
} from "./types.js";

const SPDM_1_1 = 0x11;
const GET_MEASUREMENTS = 0xe0;
const MEASUREMENTS = 0x60;
const SIGNATURE_REQUESTED = 0x01;
const NONCE_LENGTH = 32;
/** ECDSA P-384 raw r‖s: the only algorithm NVIDIA devices negotiate. */
export const SIGNATURE_LENGTH = 96;
/** MeasurementSpecification bit 0: the DMTF layout, the only one NVIDIA uses. */
const DMTF_SPECIFICATION = 0x01;

const KINDS: readonly DmtfMeasurementKind[] = [
  "immutable-rom",
  "mutable-firmware",
  "hardware-config",
  "firmware-config",
  "measurement-manifest",
];

export interface ParseGpuEvidenceOptions {
  /**
   * Tolerate zero bytes after the signature (default false: any trailing byte is refused). Some
   * collectors hand over the driver's whole report buffer; the padding is signed by nothing and
   * read by nothing, and GpuEvidence.padding records how much there was.
   */
  readonly allowZeroPadding?: boolean;
}

/**
 * GET_MEASUREMENTS request ‖ MEASUREMENTS response, as NVIDIA's driver (nvmlDeviceGetConf-
 * ComputeGpuAttestationReport) and NSCQ return it. Every length is followed, so the signature is
 * found where the structure puts it, never by counting back from the end.
 */
export function parseGpuEvidence(
  bytes: Uint8Array,
  options: ParseGpuEvidenceOptions = {},
): GpuEvidence {
  const reader = new Reader(bytes);
  const request = parseRequest(reader);
  const response = parseResponse(reader);
  const signedEnd = reader.offset - SIGNATURE_LENGTH;
  const padding = bytes.length - reader.offset;
  if (padding > 0) {
    const trailing = bytes.subarray(reader.offset);
    if (options.allowZeroPadding !== true || trailing.some((b) => b !== 0)) {
      throw new ParseError(
        "nvidia.evidence.trailing_data",
        "evidence",
        `has ${padding} bytes after the response's signature`,
        reader.offset,
      );
    }
  }
  return {
    request,
    response,
    signedBytes: bytes.subarray(0, signedEnd),
    padding,
    values: opaqueValues(response.opaque),
  };
}

function parseRequest(reader: Reader): SpdmMeasurementsRequest {
  const version = expect(reader, SPDM_1_1, "request SPDMVersion", "SPDM 1.1 (0x11)");
  expect(reader, GET_MEASUREMENTS, "request RequestResponseCode", "GET_MEASUREMENTS (0xe0)");
  const attributes = reader.u8("request Param1");
  if ((attributes & SIGNATURE_REQUESTED) === 0) {
    throw new ParseError(
      MALFORMED,
      "request Param1",
      "does not ask for a signature, so the response would be unsigned",
      2,
    );
  }
  const operation = reader.u8("request Param2");
  const nonce = reader.take(NONCE_LENGTH, "request Nonce");
  const slotId = reader.u8("request SlotIDParam");
  return { version, attributes, operation, nonce, slotId };
}

function parseResponse(reader: Reader): SpdmMeasurementsResponse {
  const version = expect(reader, SPDM_1_1, "response SPDMVersion", "SPDM 1.1 (0x11)");
  expect(reader, MEASUREMENTS, "response RequestResponseCode", "MEASUREMENTS (0x60)");
  const param1 = reader.u8("response Param1");
  const param2 = reader.u8("response Param2");
  const count = reader.u8("response NumberOfBlocks");
  if (count === 0) {
    throw new ParseError(MALFORMED, "response NumberOfBlocks", "is 0: no measurements", 41);
  }
  const recordLength = reader.uint(3, "response MeasurementRecordLength");
  const recordStart = reader.offset;
  const record = reader.take(recordLength, "response MeasurementRecord");
  const blocks = parseRecord(record, recordStart, count);
  const responderNonce = reader.take(NONCE_LENGTH, "response Nonce");
  const opaqueLength = reader.uint(2, "response OpaqueLength");
  const opaqueStart = reader.offset;
  const opaque = parseOpaqueData(reader.take(opaqueLength, "response OpaqueData"), opaqueStart);
  const signature = reader.take(SIGNATURE_LENGTH, "response Signature");
  return { version, param1, param2, blocks, responderNonce, opaque, signature };
}

/** The record must hold exactly NumberOfBlocks blocks, each with a distinct index. */
function parseRecord(record: Uint8Array, base: number, count: number): MeasurementBlock[] {
  const reader = new Reader(record);
  const blocks: MeasurementBlock[] = [];
  const indexes = new Set<number>();
  for (let i = 0; i < count; i++) {
    const offset = base + reader.offset;
    const at = (field: string) => `measurement block ${i + 1} ${field}`;
    const fail = (field: string, message: string): never => {
      throw new ParseError(MALFORMED, at(field), message, offset);
    };
    if (reader.remaining < 4) fail("header", "overruns the measurement record");
    const index = reader.u8(at("Index"));
    const specification = reader.u8(at("MeasurementSpecification"));
    const size = reader.uint(2, at("MeasurementSize"));
    if (specification !== DMTF_SPECIFICATION) {
      fail("MeasurementSpecification", `is ${specification}, not the DMTF layout (1)`);
    }
    if (index === 0 || index === 0xff) fail("Index", `is ${index}, a reserved index`);
    if (indexes.has(index)) fail("Index", `repeats index ${index}`);
    indexes.add(index);
    if (size > reader.remaining) fail("Measurement", "overruns the measurement record");
    if (size < 3) fail("Measurement", `is ${size} bytes, shorter than the DMTF header`);
    const valueType = reader.u8(at("DMTFSpecMeasurementValueType"));
    const valueSize = reader.uint(2, at("DMTFSpecMeasurementValueSize"));
    if (valueSize !== size - 3) {
      fail("DMTFSpecMeasurementValueSize", `is ${valueSize} but the block holds ${size - 3}`);
    }
    const value = reader.take(valueSize, at("DMTFSpecMeasurementValue"));
    const kind = KINDS[valueType & 0x7f] ?? "other";
    blocks.push({
      index,
      valueType: valueType & 0x7f,
      kind,
      raw: valueType >= 0x80,
      value,
      offset,
    });
  }
  if (reader.remaining !== 0) {
    throw new ParseError(
      MALFORMED,
      "response MeasurementRecord",
      `has ${reader.remaining} bytes after its ${count} blocks`,
      base + reader.offset,
    );
  }
  return blocks;
}

function expect(reader: Reader, value: number, field: string, what: string): number {
  const offset = reader.offset;
  const actual = reader.u8(field);
  if (actual !== value) {
    throw new ParseError(MALFORMED, field, `is 0x${actual.toString(16)}, not ${what}`, offset);
  }
  return actual;
}
