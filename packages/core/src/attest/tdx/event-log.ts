import { ParseError } from "../../errors.js";

/**
 * The TCG PC Client crypto-agile event log (TCG PC Client Platform Firmware Profile, §10) as
 * TDX firmware writes it into the CCEL log area. The log is unauthenticated input: parsing
 * only frames it. What it says becomes evidence once replay.ts reproduces the quote's RTMRs
 * from its digests.
 *
 * On TDX the log's "PCR index" is the CC measurement register index (UEFI 2.10 §38.4.1,
 * EFI_CC_MR_INDEX): 0 = MRTD, 1..4 = RTMR0..RTMR3.
 */

export type MeasurementRegister = "MRTD" | "RTMR0" | "RTMR1" | "RTMR2" | "RTMR3";

const REGISTERS: readonly MeasurementRegister[] = ["MRTD", "RTMR0", "RTMR1", "RTMR2", "RTMR3"];

/** TPM_ALG_ID values (TPM 2.0 Library, Part 2, Table 9) a log may name. */
export const TCG_ALG = {
  sha1: 0x0004,
  sha256: 0x000b,
  sha384: 0x000c,
  sha512: 0x000d,
  sm3_256: 0x0012,
} as const;

const KNOWN_DIGEST_SIZES: ReadonlyMap<number, number> = new Map([
  [TCG_ALG.sha1, 20],
  [TCG_ALG.sha256, 32],
  [TCG_ALG.sha384, 48],
  [TCG_ALG.sha512, 64],
  [TCG_ALG.sm3_256, 32],
]);

/** Event types (PFP §10.4.1) that the parser and the boot summary treat specially. */
export const EV = {
  NO_ACTION: 0x3,
  SEPARATOR: 0x4,
  EVENT_TAG: 0x6,
  PLATFORM_CONFIG_FLAGS: 0xa,
  IPL: 0xd,
  EFI_VARIABLE_DRIVER_CONFIG: 0x80000001,
  EFI_VARIABLE_BOOT: 0x80000002,
  EFI_BOOT_SERVICES_APPLICATION: 0x80000003,
  EFI_BOOT_SERVICES_DRIVER: 0x80000004,
  EFI_RUNTIME_SERVICES_DRIVER: 0x80000005,
  EFI_GPT_EVENT: 0x80000006,
  EFI_ACTION: 0x80000007,
  EFI_PLATFORM_FIRMWARE_BLOB2: 0x8000000a,
  EFI_HANDOFF_TABLES2: 0x8000000b,
  EFI_VARIABLE_BOOT2: 0x8000000c,
  EFI_VARIABLE_AUTHORITY: 0x800000e0,
} as const;

const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0, "EV_PREBOOT_CERT"],
  [0x1, "EV_POST_CODE"],
  [0x2, "EV_UNUSED"],
  [0x3, "EV_NO_ACTION"],
  [0x4, "EV_SEPARATOR"],
  [0x5, "EV_ACTION"],
  [0x6, "EV_EVENT_TAG"],
  [0x7, "EV_S_CRTM_CONTENTS"],
  [0x8, "EV_S_CRTM_VERSION"],
  [0x9, "EV_CPU_MICROCODE"],
  [0xa, "EV_PLATFORM_CONFIG_FLAGS"],
  [0xb, "EV_TABLE_OF_DEVICES"],
  [0xc, "EV_COMPACT_HASH"],
  [0xd, "EV_IPL"],
  [0xe, "EV_IPL_PARTITION_DATA"],
  [0xf, "EV_NONHOST_CODE"],
  [0x10, "EV_NONHOST_CONFIG"],
  [0x11, "EV_NONHOST_INFO"],
  [0x12, "EV_OMIT_BOOT_DEVICE_EVENTS"],
  [0x80000000, "EV_EFI_EVENT_BASE"],
  [0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG"],
  [0x80000002, "EV_EFI_VARIABLE_BOOT"],
  [0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION"],
  [0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER"],
  [0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER"],
  [0x80000006, "EV_EFI_GPT_EVENT"],
  [0x80000007, "EV_EFI_ACTION"],
  [0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB"],
  [0x80000009, "EV_EFI_HANDOFF_TABLES"],
  [0x8000000a, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"],
  [0x8000000b, "EV_EFI_HANDOFF_TABLES2"],
  [0x8000000c, "EV_EFI_VARIABLE_BOOT2"],
  [0x80000010, "EV_EFI_HCRTM_EVENT"],
  [0x800000e0, "EV_EFI_VARIABLE_AUTHORITY"],
  [0x800000e1, "EV_EFI_SPDM_FIRMWARE_BLOB"],
  [0x800000e2, "EV_EFI_SPDM_FIRMWARE_CONFIG"],
  [0x800000e3, "EV_EFI_SPDM_DEVICE_POLICY"],
  [0x800000e4, "EV_EFI_SPDM_DEVICE_AUTHORITY"],
]);

export function eventTypeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `unknown (0x${type.toString(16).padStart(8, "0")})`;
}

export interface DigestAlgorithm {
  /** TPM_ALG_ID, e.g. 0x000c for SHA-384. */
  readonly id: number;
  readonly size: number;
}

/** The header event (TCG_EfiSpecIDEvent) that makes the rest of the log crypto-agile. */
export interface SpecIdEvent {
  readonly platformClass: number;
  readonly specVersion: { readonly major: number; readonly minor: number; readonly errata: number };
  readonly uintnSize: number;
  readonly vendorInfo: Uint8Array;
}

export interface CcelEvent {
  /** Byte offset of the event in the log: where to look in a hex dump. */
  readonly offset: number;
  /** The CC measurement register index as logged. */
  readonly mrIndex: number;
  readonly register: MeasurementRegister;
  readonly type: number;
  readonly typeName: string;
  /** TPM_ALG_ID -> digest, one per algorithm the Spec ID event declares. */
  readonly digests: ReadonlyMap<number, Uint8Array>;
  /** The SHA-384 digest: the value TDX extends into the RTMR. */
  readonly sha384: Uint8Array;
  /** The event data as logged. Several event types hash something else (a file, a PE image). */
  readonly data: Uint8Array;
  /**
   * Best-effort reading of the data (an EFI variable name, a file path, ASCII text). A label for
   * people: event data is not bound by replay unless its digest is a hash of it.
   */
  readonly description?: string;
}

export interface EventLog {
  readonly algorithms: readonly DigestAlgorithm[];
  readonly specId: SpecIdEvent;
  /** Every event after the Spec ID header, in log order. */
  readonly events: readonly CcelEvent[];
  /** Bytes the events occupy, header included: the rest of the area is fill. */
  readonly length: number;
}

const CODE = {
  specId: "tdx.ccel.spec_id",
  algorithms: "tdx.ccel.algorithms",
  truncated: "tdx.ccel.truncated",
  mrIndex: "tdx.ccel.mr_index",
  digests: "tdx.ccel.digests",
  trailing: "tdx.ccel.trailing_data",
} as const;

const SPEC_ID_SIGNATURE = "Spec ID Event03\0";
/** pcrIndex, eventType, SHA-1 digest[20], eventSize: the TCG_PCClientPCREvent header. */
const SPEC_ID_HEADER = 32;

/**
 * Log-area bytes -> EventLog. Total: every input either parses or throws a ParseError with the
 * field and offset. Parsing stops at the end of the input (or at `logAreaLength`, the table's
 * LAML, when that is shorter) or where the fill starts: firmware pre-fills the area with 0xFF
 * (EDK2) or 0x00 (td-shim), so an event header made of one fill byte marks the end, and
 * everything after it must be that fill too.
 */
export function parseEventLog(input: Uint8Array, options?: { logAreaLength?: number }): EventLog {
  const limit = Math.min(input.length, options?.logAreaLength ?? input.length);
  // One private copy: event data views must not change when the caller reuses its buffer.
  const bytes = input.slice(0, Math.max(0, limit));
  const view = new DataView(bytes.buffer);
  const need = (offset: number, size: number, field: string): void => {
    if (offset + size > bytes.length) {
      throw new ParseError(
        CODE.truncated,
        field,
        `needs ${size} bytes but the log ends ${bytes.length - offset} bytes later`,
        offset,
      );
    }
  };

  const { specId, algorithms, end } = parseSpecId(bytes, view, need);
  const sizes = new Map(algorithms.map((a) => [a.id, a.size]));
  const events: CcelEvent[] = [];
  let offset = end;
  while (offset < bytes.length) {
    if (fillStartsAt(bytes, offset)) {
      requireFill(bytes, offset);
      break;
    }
    const start = offset;
    const field = `events[${events.length}]`;
    need(offset, 12, `${field}.header`);
    const mrIndex = view.getUint32(offset, true);
    const type = view.getUint32(offset + 4, true);
    const count = view.getUint32(offset + 8, true);
    if (mrIndex >= REGISTERS.length) {
      throw new ParseError(
        CODE.mrIndex,
        `${field}.mrIndex`,
        `${mrIndex} names no TDX measurement register (0 = MRTD, 1..4 = RTMR0..3)`,
        offset,
      );
    }
    if (count !== algorithms.length) {
      throw new ParseError(
        CODE.digests,
        `${field}.digestCount`,
        `is ${count}, but the Spec ID event declares ${algorithms.length} algorithms`,
        offset + 8,
      );
    }
    offset += 12;
    const digests = new Map<number, Uint8Array>();
    for (let i = 0; i < count; i++) {
      need(offset, 2, `${field}.digests[${i}].algorithm`);
      const id = view.getUint16(offset, true);
      const size = sizes.get(id);
      if (size === undefined || digests.has(id)) {
        throw new ParseError(
          CODE.digests,
          `${field}.digests[${i}].algorithm`,
          `0x${id.toString(16).padStart(4, "0")} is ${size === undefined ? "not declared by the Spec ID event" : "repeated"}`,
          offset,
        );
      }
      need(offset + 2, size, `${field}.digests[${i}].digest`);
      digests.set(id, bytes.subarray(offset + 2, offset + 2 + size));
      offset += 2 + size;
    }
    need(offset, 4, `${field}.eventSize`);
    const size = view.getUint32(offset, true);
    need(offset + 4, size, `${field}.event`);
    const data = bytes.subarray(offset + 4, offset + 4 + size);
    offset += 4 + size;
    const description = describe(type, data);
    events.push({
      offset: start,
      mrIndex,
      register: REGISTERS[mrIndex] as MeasurementRegister,
      type,
      typeName: eventTypeName(type),
      digests,
      // parseSpecId guarantees SHA-384 is declared, and every event carries each declared one.
      sha384: digests.get(TCG_ALG.sha384) as Uint8Array,
      data,
      ...(description === undefined ? {} : { description }),
    });
  }
  return { algorithms, specId, events, length: offset };
}

type Need = (offset: number, size: number, field: string) => void;

function parseSpecId(
  bytes: Uint8Array,
  view: DataView,
  need: Need,
): { specId: SpecIdEvent; algorithms: DigestAlgorithm[]; end: number } {
  need(0, SPEC_ID_HEADER, "specId.header");
  if (view.getUint32(4, true) !== EV.NO_ACTION) {
    throw new ParseError(
      CODE.specId,
      "specId.eventType",
      "the first event must be EV_NO_ACTION",
      4,
    );
  }
  const size = view.getUint32(28, true);
  need(SPEC_ID_HEADER, size, "specId.event");
  const at = SPEC_ID_HEADER;
  if (size < 29 || ascii(bytes.subarray(at, at + 16)) !== SPEC_ID_SIGNATURE) {
    throw new ParseError(
      CODE.specId,
      "specId.signature",
      'the first event must be the "Spec ID Event03" of a crypto-agile log',
      at,
    );
  }
  const count = view.getUint32(at + 24, true);
  // signature, platformClass, version (4 bytes), numberOfAlgorithms, algorithms, vendorInfoSize.
  const fixed = 28 + 4 * count + 1;
  if (count === 0 || fixed > size) {
    throw new ParseError(
      CODE.specId,
      "specId.numberOfAlgorithms",
      `${count} algorithms do not fit a ${size}-byte Spec ID event`,
      at + 24,
    );
  }
  const algorithms: DigestAlgorithm[] = [];
  for (let i = 0; i < count; i++) {
    const o = at + 28 + 4 * i;
    const id = view.getUint16(o, true);
    const digestSize = view.getUint16(o + 2, true);
    const known = KNOWN_DIGEST_SIZES.get(id);
    if (digestSize === 0 || (known !== undefined && known !== digestSize)) {
      throw new ParseError(
        CODE.algorithms,
        `specId.algorithms[${i}]`,
        `algorithm 0x${id.toString(16).padStart(4, "0")} cannot have ${digestSize}-byte digests`,
        o,
      );
    }
    if (algorithms.some((a) => a.id === id)) {
      throw new ParseError(CODE.algorithms, `specId.algorithms[${i}]`, "is declared twice", o);
    }
    algorithms.push({ id, size: digestSize });
  }
  if (!algorithms.some((a) => a.id === TCG_ALG.sha384)) {
    throw new ParseError(
      CODE.algorithms,
      "specId.algorithms",
      "declares no SHA-384, the only digest TDX extends into RTMRs",
      at + 28,
    );
  }
  const vendorInfoSize = bytes[at + fixed - 1] as number;
  if (fixed + vendorInfoSize !== size) {
    throw new ParseError(
      CODE.specId,
      "specId.vendorInfoSize",
      `${vendorInfoSize} vendor bytes leave the ${size}-byte Spec ID event ${size - fixed - vendorInfoSize} bytes off`,
      at + fixed - 1,
    );
  }
  return {
    specId: {
      platformClass: view.getUint32(at + 16, true),
      specVersion: {
        minor: bytes[at + 20] as number,
        major: bytes[at + 21] as number,
        errata: bytes[at + 22] as number,
      },
      uintnSize: bytes[at + 23] as number,
      vendorInfo: bytes.subarray(at + fixed, at + size),
    },
    algorithms,
    end: at + size,
  };
}

/** An event header (pcrIndex and eventType, 8 bytes, or what is left) of one fill byte. */
function fillStartsAt(bytes: Uint8Array, offset: number): boolean {
  const fill = bytes[offset];
  if (fill !== 0x00 && fill !== 0xff) return false;
  const end = Math.min(offset + 8, bytes.length);
  for (let i = offset; i < end; i++) if (bytes[i] !== fill) return false;
  return true;
}

function requireFill(bytes: Uint8Array, offset: number): void {
  const fill = bytes[offset];
  for (let i = offset; i < bytes.length; i++) {
    if (bytes[i] !== fill) {
      throw new ParseError(
        CODE.trailing,
        "fill",
        `the log ended at offset ${offset}, but a byte other than the 0x${(fill as number).toString(16)} fill follows`,
        i,
      );
    }
  }
}

// ---- Best-effort descriptions. None of these throws: a malformed payload has no description.

function ascii(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Printable text: letters, marks, punctuation, spaces, tab and newlines; no other controls. */
const PRINTABLE = /^[^\p{Cc}\p{Cs}\p{Co}\p{Cn}]*$/u;
const isPrintable = (text: string): boolean => PRINTABLE.test(text.replace(/[\t\n\r]/g, ""));

/** UTF-8 text, without the NULs firmware pads it with. */
export function textOf(bytes: Uint8Array): string | undefined {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  if (end === 0) return undefined;
  let text: string;
  try {
    text = strictUtf8.decode(bytes.subarray(0, end));
  } catch {
    return undefined;
  }
  return isPrintable(text) ? text : undefined;
}

/** UTF-16LE text (EFI's CHAR16), up to the first NUL. */
function utf16Of(bytes: Uint8Array): string | undefined {
  let text = "";
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const unit = (bytes[i] as number) | ((bytes[i + 1] as number) << 8);
    if (unit === 0) break;
    text += String.fromCharCode(unit);
  }
  return text.length > 0 && isPrintable(text) ? text : undefined;
}

const u32 = (b: Uint8Array, o: number): number =>
  ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16)) +
  (b[o + 3] as number) * 0x1000000;

/** A u64 length as a number; undefined past 2^32, which no event of this size can hold. */
const u64len = (b: Uint8Array, o: number): number | undefined =>
  u32(b, o + 4) === 0 ? u32(b, o) : undefined;

/** EFI_GUID in its registry form (first three fields little-endian). */
function guidOf(b: Uint8Array): string {
  const hex = (from: number, to: number, reverse: boolean): string => {
    const part = Array.from(b.subarray(from, to), (x) => x.toString(16).padStart(2, "0"));
    return (reverse ? part.reverse() : part).join("");
  };
  return [
    hex(0, 4, true),
    hex(4, 6, true),
    hex(6, 8, true),
    hex(8, 10, false),
    hex(10, 16, false),
  ].join("-");
}

export interface EfiVariable {
  /** VendorGuid, lower case. */
  readonly guid: string;
  readonly name: string;
  readonly value: Uint8Array;
}

/** UEFI_VARIABLE_DATA: VariableName GUID, name and data lengths, CHAR16 name, data. */
export function decodeEfiVariable(data: Uint8Array): EfiVariable | undefined {
  if (data.length < 32) return undefined;
  const nameLength = u64len(data, 16);
  const valueLength = u64len(data, 24);
  if (nameLength === undefined || valueLength === undefined) return undefined;
  const nameEnd = 32 + 2 * nameLength;
  if (nameEnd + valueLength !== data.length) return undefined;
  const name = utf16Of(data.subarray(32, nameEnd));
  if (name === undefined || name.length !== nameLength) return undefined;
  return { guid: guidOf(data), name, value: data.subarray(nameEnd) };
}

/** Boot#### holds an EFI_LOAD_OPTION: attributes u32, path length u16, CHAR16 description. */
function loadOptionDescription(value: Uint8Array): string | undefined {
  return value.length > 6 ? utf16Of(value.subarray(6)) : undefined;
}

/**
 * UEFI_IMAGE_LOAD_EVENT: four u64 (location, length, link-time address, device path length),
 * then the device path. Its media file-path nodes (type 4, subtype 4) name the file.
 */
function imagePath(data: Uint8Array): string | undefined {
  if (data.length < 32) return undefined;
  const pathLength = u64len(data, 24);
  if (pathLength === undefined || 32 + pathLength > data.length) return undefined;
  const path = data.subarray(32, 32 + pathLength);
  const parts: string[] = [];
  for (let o = 0; o + 4 <= path.length; ) {
    const nodeType = path[o] as number;
    const nodeLength = (path[o + 2] as number) | ((path[o + 3] as number) << 8);
    if (nodeType === 0x7f || nodeLength < 4 || o + nodeLength > path.length) break;
    if (nodeType === 4 && path[o + 1] === 4) {
      const part = utf16Of(path.subarray(o + 4, o + nodeLength));
      if (part !== undefined) parts.push(part);
    }
    o += nodeLength;
  }
  return parts.length > 0 ? parts.join("") : undefined;
}

/** UEFI_PLATFORM_FIRMWARE_BLOB2 and UEFI_HANDOFF_TABLE_POINTERS2 open with a u8-sized ASCII label. */
function sizedLabel(data: Uint8Array): string | undefined {
  const size = data[0];
  return size !== undefined && size > 0 && 1 + size <= data.length
    ? textOf(data.subarray(1, 1 + size))
    : undefined;
}

/** td-shim's TD_SHIM_PLATFORM_CONFIG_INFO: a 16-byte ASCII descriptor, u32 length, the data. */
export function decodeTdShimConfigInfo(
  data: Uint8Array,
): { readonly descriptor: string; readonly info: Uint8Array } | undefined {
  if (data.length < 20 || 20 + u32(data, 16) !== data.length) return undefined;
  const descriptor = textOf(data.subarray(0, 16));
  return descriptor === undefined ? undefined : { descriptor, info: data.subarray(20) };
}

/** UEFI_GPT_DATA: the partition table header (its size at offset 12), then a u64 count. */
function gptSummary(data: Uint8Array): string | undefined {
  if (data.length < 16 || ascii(data.subarray(0, 8)) !== "EFI PART") return undefined;
  const headerSize = u32(data, 12);
  if (headerSize + 8 > data.length) return undefined;
  const count = u64len(data, headerSize);
  return count === undefined ? undefined : `GPT with ${count} partitions`;
}

function describe(type: number, data: Uint8Array): string | undefined {
  switch (type) {
    case EV.NO_ACTION:
      // Signature-led structures: "StartupLocality", "SP800-155 Event", "NvIndexInstance".
      return textOf(data.subarray(0, Math.max(0, data.subarray(0, 16).indexOf(0))));
    case EV.SEPARATOR:
      return undefined;
    case EV.EFI_VARIABLE_DRIVER_CONFIG:
    case EV.EFI_VARIABLE_AUTHORITY:
    case EV.EFI_VARIABLE_BOOT:
    case EV.EFI_VARIABLE_BOOT2: {
      const variable = decodeEfiVariable(data);
      if (variable === undefined) return undefined;
      const option = /^Boot[0-9A-F]{4}$/.test(variable.name)
        ? loadOptionDescription(variable.value)
        : undefined;
      return option === undefined ? variable.name : `${variable.name}: ${option}`;
    }
    case EV.EFI_BOOT_SERVICES_APPLICATION:
    case EV.EFI_BOOT_SERVICES_DRIVER:
    case EV.EFI_RUNTIME_SERVICES_DRIVER:
      return imagePath(data);
    case EV.EFI_PLATFORM_FIRMWARE_BLOB2:
    case EV.EFI_HANDOFF_TABLES2:
      return sizedLabel(data);
    case EV.EFI_GPT_EVENT:
      return gptSummary(data);
    case EV.EVENT_TAG: {
      // TCG_PCClientTaggedEvent: taggedEventID u32, taggedEventDataSize u32, data.
      if (data.length < 8 || 8 + u32(data, 4) !== data.length) return undefined;
      const tag = `tag 0x${u32(data, 0).toString(16).padStart(8, "0")}`;
      const text = textOf(data.subarray(8)) ?? utf16Of(data.subarray(8));
      return text === undefined ? tag : `${tag}: ${text}`;
    }
    case EV.PLATFORM_CONFIG_FLAGS: {
      const info = decodeTdShimConfigInfo(data);
      if (info === undefined) return textOf(data);
      const text = textOf(info.info);
      return text === undefined ? info.descriptor : `${info.descriptor} ${text}`;
    }
    default:
      // EV_IPL, EV_EFI_ACTION, EV_ACTION, EV_POST_CODE, EV_S_CRTM_VERSION (CHAR16) and others.
      return textOf(data) ?? (data.length % 2 === 0 ? utf16Of(data) : undefined);
  }
}
