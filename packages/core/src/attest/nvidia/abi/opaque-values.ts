import { toHex } from "../../../bytes.js";
import { ParseError } from "../../../errors.js";
import { MALFORMED } from "./reader.js";
import type { OpaqueField, OpaqueFieldName, OpaqueValues, UnitStatus } from "./types.js";

/** Fields that hold NUL-padded ASCII text; every other field is shown as hex. */
const TEXT_FIELDS: ReadonlySet<OpaqueFieldName> = new Set([
  "driver_version",
  "chip_sku",
  "chip_sku_mod",
  "project",
  "project_sku",
  "chip_info",
]);

const FEATURES = ["SPT", "MPT", "PPCIE"] as const;

/**
 * What the opaque fields say, decoded. A named field whose value cannot be what its type says
 * (a version that is not text, a count list that is not whole u32s) is refused: the device
 * signed it, so it is malformed evidence rather than a value to guess at.
 */
export function opaqueValues(fields: readonly OpaqueField[]): OpaqueValues {
  const text: Record<string, string> = {};
  const hex: Record<string, string> = {};
  let driverVersion: string | undefined;
  let vbiosVersion: string | undefined;
  let fwid: string | undefined;
  let measurementCount: number[] | undefined;
  let nvdec0Status: UnitStatus | undefined;
  let protectedPcieStatus: UnitStatus | undefined;
  let feature: OpaqueValues["feature"];
  let switchPdis: string[] | undefined;
  for (const field of fields) {
    const { name, value, offset } = field;
    const key = name ?? `type_${field.type}`;
    const malformed = (message: string): never => {
      throw new ParseError(MALFORMED, `opaque field ${key}`, message, offset);
    };
    if (name !== undefined && TEXT_FIELDS.has(name)) {
      const decoded = asciiText(value) ?? malformed("is not NUL-padded ASCII text");
      text[name] = decoded;
      if (name === "driver_version") driverVersion = decoded;
      continue;
    }
    switch (name) {
      case "vbios_version":
        vbiosVersion = vbios(value) ?? malformed("is neither 8 version bytes nor ASCII text");
        break;
      case "fwid":
        if (value.length !== 48) malformed(`is ${value.length} bytes, not a 48-byte SHA-384`);
        fwid = toHex(value);
        break;
      case "measurement_count":
        if (value.length % 4 !== 0) malformed("is not a list of 32-bit counts");
        measurementCount = [];
        for (let i = 0; i < value.length; i += 4) {
          measurementCount.push(
            new DataView(value.buffer, value.byteOffset + i, 4).getUint32(0, true),
          );
        }
        break;
      case "nvdec0_status":
        nvdec0Status = unitStatus(value) ?? malformed("is not one status byte");
        break;
      case "protected_pcie_status":
        protectedPcieStatus = unitStatus(value) ?? malformed("is not one status byte");
        break;
      case "feature_flag": {
        const flag = littleEndian(value) ?? malformed("is longer than 8 bytes");
        feature = FEATURES[flag] ?? "unknown";
        break;
      }
      case "switch_pdi":
        if (value.length % 8 !== 0) malformed("is not a list of 8-byte PDIs");
        switchPdis = [];
        for (let i = 0; i < value.length; i += 8) switchPdis.push(toHex(value.subarray(i, i + 8)));
        break;
    }
    hex[key] = toHex(value);
  }
  return {
    ...(driverVersion === undefined ? {} : { driverVersion }),
    ...(vbiosVersion === undefined ? {} : { vbiosVersion }),
    ...(fwid === undefined ? {} : { fwid }),
    ...(measurementCount === undefined ? {} : { measurementCount }),
    ...(nvdec0Status === undefined ? {} : { nvdec0Status }),
    ...(protectedPcieStatus === undefined ? {} : { protectedPcieStatus }),
    ...(feature === undefined ? {} : { feature }),
    ...(switchPdis === undefined ? {} : { switchPdis }),
    text,
    hex,
  };
}

/** Printable ASCII followed only by NUL padding; undefined for anything else. */
function asciiText(value: Uint8Array): string | undefined {
  let end = value.length;
  while (end > 0 && value[end - 1] === 0) end--;
  let out = "";
  for (const byte of value.subarray(0, end)) {
    if (byte < 0x20 || byte > 0x7e) return undefined;
    out += String.fromCharCode(byte);
  }
  return out;
}

/**
 * GPUs report the VBIOS version as 8 bytes, its first four little-endian and then the OEM byte
 * (00 9f 00 96 01 00 00 00 is 96.00.9f.00.01); NVSwitches report the same dotted form as text.
 */
function vbios(value: Uint8Array): string | undefined {
  if (value.length === 8) {
    const parts = [...value.subarray(0, 4)].reverse().map((b) => b.toString(16).padStart(2, "0"));
    return `${parts.join(".")}.${(value[4] as number).toString(16).padStart(2, "0")}`;
  }
  const text = asciiText(value);
  return text === undefined ? undefined : text.toLowerCase();
}

/** NVIDIA's status bytes: 0xaa enabled, 0x55 disabled. */
function unitStatus(value: Uint8Array): UnitStatus | undefined {
  if (value.length !== 1) return undefined;
  const raw = value[0] as number;
  return { raw, state: raw === 0xaa ? "enabled" : raw === 0x55 ? "disabled" : "unknown" };
}

function littleEndian(value: Uint8Array): number | undefined {
  if (value.length > 6) {
    // Wider than 48 bits: only zero high bytes keep it an exact JavaScript number.
    if (value.length > 8 || value.subarray(6).some((b) => b !== 0)) return undefined;
  }
  let n = 0;
  for (let i = Math.min(value.length, 6) - 1; i >= 0; i--) n = n * 256 + (value[i] as number);
  return n;
}
