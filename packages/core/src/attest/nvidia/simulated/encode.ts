import { asBufferSource, concat, fromHex, utf8 } from "../../../bytes.js";
import { CloisterError } from "../../../errors.js";
import { SIGNATURE_LENGTH } from "../abi/spdm.js";

/**
 * The inverse of parseGpuEvidence for exactly what it reads: an SPDM 1.1 GET_MEASUREMENTS
 * request asking for every measurement, signed, and the MEASUREMENTS response. It exists so that
 * a simulated GPU goes through the very parser and verifier a real one does.
 */

const INPUT = "nvidia.simulated.input";
const NONCE_LENGTH = 32;
/** SPDM 1.1, GET_MEASUREMENTS with the signature requested, all measurements (0xff), slot 0. */
const REQUEST_HEADER = [0x11, 0xe0, 0x01, 0xff] as const;
const SLOT_ID = 0;
/** SPDM 1.1, MEASUREMENTS, Param1 and Param2 0 (they carry nothing for an all-measurements reply). */
const RESPONSE_HEADER = [0x11, 0x60, 0x00, 0x00] as const;
const DMTF_SPECIFICATION = 0x01;
/** Hopper reports every block as mutable firmware, as a digest. */
const MUTABLE_FIRMWARE = 0x01;

const OPAQUE = {
  driverVersion: 3,
  vbiosVersion: 6,
  measurementCount: 12,
  fwid: 20,
  feature: 36,
} as const;
const FEATURES = ["SPT", "MPT", "PPCIE"] as const;

export interface GpuMeasurementInput {
  /** 1..254, distinct within the evidence. */
  readonly index: number;
  readonly value: Uint8Array;
  /** DMTFSpecMeasurementValueType bits 6:0; default 1 (mutable firmware). */
  readonly valueType?: number;
  /** Bit 7 of the value type: the value is a raw bit stream rather than a digest. */
  readonly raw?: boolean;
}

/** One opaque field as it goes on the wire: NVIDIA's type id and the bytes. */
export interface GpuOpaqueFieldInput {
  readonly type: number;
  readonly value: Uint8Array;
}

/**
 * The opaque data. Named values are encoded as NVIDIA's devices encode them, in the order they
 * emit them (VBIOS, driver, measurement counts, FWID, feature); `fields` follow as given.
 */
export interface GpuOpaqueInput {
  /** Printable ASCII, e.g. "550.90.07". */
  readonly driverVersion?: string;
  /** Five dotted hex bytes, e.g. "96.00.9f.00.01". */
  readonly vbiosVersion?: string;
  /** SHA-384 of the booted firmware, 96 hex characters. */
  readonly fwid?: string;
  readonly measurementCount?: readonly number[];
  readonly feature?: (typeof FEATURES)[number];
  readonly fields?: readonly GpuOpaqueFieldInput[];
}

export interface GpuEvidenceFields {
  /** The verifier's 32-byte nonce, which the request carries. */
  readonly nonce: Uint8Array;
  /** The device's own 32-byte nonce; random when absent. */
  readonly responderNonce?: Uint8Array;
  readonly blocks: readonly GpuMeasurementInput[];
  readonly opaque: GpuOpaqueInput;
}

/** request ‖ response without its signature: the bytes the device's signature covers. */
export function encodeGpuEvidence(fields: GpuEvidenceFields): Uint8Array {
  const nonce = exactly(fields.nonce, NONCE_LENGTH, "The nonce");
  const responderNonce =
    fields.responderNonce === undefined
      ? crypto.getRandomValues(new Uint8Array(NONCE_LENGTH))
      : exactly(fields.responderNonce, NONCE_LENGTH, "The responder nonce");
  if (fields.blocks.length === 0 || fields.blocks.length > 0xff) {
    invalid(`The evidence must hold 1 to 255 measurement blocks, not ${fields.blocks.length}.`);
  }
  const record = measurementRecord(fields.blocks);
  const opaque = opaqueData(fields.opaque);
  return concat([
    Uint8Array.from(REQUEST_HEADER),
    nonce,
    Uint8Array.of(SLOT_ID),
    Uint8Array.from(RESPONSE_HEADER),
    Uint8Array.of(fields.blocks.length),
    littleEndian(record.length, 3, "The measurement record"),
    record,
    responderNonce,
    littleEndian(opaque.length, 2, "The opaque data"),
    opaque,
  ]);
}

/** The whole evidence, signed with the device's ECDSA P-384 key (SHA-384, raw r‖s). */
export async function signGpuEvidence(
  fields: GpuEvidenceFields,
  privateKey: CryptoKey,
): Promise<Uint8Array> {
  const signed = encodeGpuEvidence(fields);
  let signature: Uint8Array;
  try {
    signature = new Uint8Array(
      await crypto.subtle.sign(
        { name: "ECDSA", hash: "SHA-384" },
        privateKey,
        asBufferSource(signed),
      ),
    );
  } catch {
    signature = new Uint8Array();
  }
  if (signature.length !== SIGNATURE_LENGTH) {
    throw new CloisterError(
      "nvidia.simulated.key",
      "The signing key is not an ECDSA P-384 private key that may sign.",
    );
  }
  return concat([signed, signature]);
}

function measurementRecord(blocks: readonly GpuMeasurementInput[]): Uint8Array {
  const seen = new Set<number>();
  const parts: Uint8Array[] = [];
  for (const block of blocks) {
    const { index, value } = block;
    if (!Number.isInteger(index) || index < 1 || index > 254 || seen.has(index)) {
      invalid(`Measurement index ${index} is not a distinct whole number from 1 to 254.`);
    }
    seen.add(index);
    const valueType = block.valueType ?? MUTABLE_FIRMWARE;
    if (!Number.isInteger(valueType) || valueType < 0 || valueType > 0x7f) {
      invalid(`Measurement ${index}'s value type ${valueType} does not fit in 7 bits.`);
    }
    const size = value.length + 3;
    parts.push(
      Uint8Array.of(index, DMTF_SPECIFICATION),
      littleEndian(size, 2, `Measurement ${index}`),
      Uint8Array.of(valueType | (block.raw === true ? 0x80 : 0)),
      littleEndian(value.length, 2, `Measurement ${index}`),
      value,
    );
  }
  return concat(parts);
}

function opaqueData(input: GpuOpaqueInput): Uint8Array {
  const fields: GpuOpaqueFieldInput[] = [];
  if (input.vbiosVersion !== undefined) {
    fields.push({ type: OPAQUE.vbiosVersion, value: vbiosBytes(input.vbiosVersion) });
  }
  if (input.driverVersion !== undefined) {
    fields.push({ type: OPAQUE.driverVersion, value: asciiBytes(input.driverVersion) });
  }
  if (input.measurementCount !== undefined) {
    fields.push({ type: OPAQUE.measurementCount, value: countBytes(input.measurementCount) });
  }
  if (input.fwid !== undefined) {
    const fwid = /^[0-9a-f]{96}$/i.test(input.fwid) ? fromHex(input.fwid) : undefined;
    fields.push({
      type: OPAQUE.fwid,
      value: fwid ?? invalid("The FWID is not 96 hex characters (a SHA-384)."),
    });
  }
  if (input.feature !== undefined) {
    const flag = FEATURES.indexOf(input.feature);
    if (flag < 0) invalid(`The feature ${JSON.stringify(input.feature)} is not SPT, MPT or PPCIE.`);
    fields.push({ type: OPAQUE.feature, value: littleEndian(flag, 2, "The feature flag") });
  }
  fields.push(...(input.fields ?? []));
  const seen = new Set<number>();
  const parts: Uint8Array[] = [];
  for (const { type, value } of fields) {
    // 255 is NVIDIA's invalid id, and a repeated id is ambiguous: the parser refuses both.
    if (!Number.isInteger(type) || type < 0 || type >= 255 || seen.has(type)) {
      invalid(`Opaque field type ${type} is not a distinct whole number from 0 to 254.`);
    }
    seen.add(type);
    parts.push(
      littleEndian(type, 2, "An opaque field type"),
      littleEndian(value.length, 2, `Opaque field ${type}`),
      value,
    );
  }
  return concat(parts);
}

/** NUL-terminated, as the driver writes its version. */
function asciiBytes(text: string): Uint8Array {
  if (!/^[\x20-\x7e]+$/.test(text)) invalid("The driver version is not printable ASCII text.");
  return concat([utf8(text), Uint8Array.of(0)]);
}

/** "96.00.9f.00.01" -> 00 9f 00 96 01 00 00 00: the first four bytes little-endian, then the OEM byte. */
function vbiosBytes(version: string): Uint8Array {
  if (!/^[0-9a-f]{2}(\.[0-9a-f]{2}){4}$/i.test(version)) {
    invalid(`The VBIOS version ${JSON.stringify(version)} is not five dotted hex bytes.`);
  }
  const parts = version.split(".").map((part) => Number.parseInt(part, 16));
  return Uint8Array.from([...parts.slice(0, 4).reverse(), parts[4] as number, 0, 0, 0]);
}

function countBytes(counts: readonly number[]): Uint8Array {
  return concat(counts.map((count) => littleEndian(count, 4, "A measurement count")));
}

function littleEndian(value: number, length: 2 | 3 | 4, what: string): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value >= 256 ** length) {
    invalid(`${what} (${value}) does not fit in ${length} bytes.`);
  }
  return Uint8Array.from({ length }, (_, i) => Math.floor(value / 256 ** i) % 256);
}

function exactly(bytes: Uint8Array, length: number, what: string): Uint8Array {
  if (bytes.length !== length) invalid(`${what} is ${bytes.length} bytes, not ${length}.`);
  return bytes;
}

function invalid(message: string): never {
  throw new CloisterError(INPUT, message);
}
