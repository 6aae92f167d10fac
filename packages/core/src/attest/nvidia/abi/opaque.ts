import { ParseError } from "../../../errors.js";
import { MALFORMED, Reader } from "./reader.js";
import type { OpaqueField, OpaqueFieldName } from "./types.js";

/** nvtrust's published OPAQUE_FIELD_ID_* values. Other ids are kept, unnamed, as raw bytes. */
export const OPAQUE_FIELD_NAMES: Readonly<Record<number, OpaqueFieldName>> = {
  1: "cert_issuer_name",
  2: "cert_authority_key_identifier",
  3: "driver_version",
  4: "gpu_info",
  5: "sku",
  6: "vbios_version",
  7: "manufacturer_id",
  8: "tamper_detection",
  9: "smc",
  10: "vpr",
  11: "nvdec0_status",
  12: "measurement_count",
  13: "cpr_info",
  14: "board_id",
  15: "chip_sku",
  16: "chip_sku_mod",
  17: "project",
  18: "project_sku",
  19: "project_sku_mod",
  20: "fwid",
  21: "protected_pcie_status",
  22: "switch_pdi",
  23: "floorswept_ports",
  24: "position_id",
  25: "lock_switch_status",
  32: "gpu_link_conn",
  33: "sys_enable_status",
  34: "opaque_data_version",
  35: "chip_info",
  36: "feature_flag",
};

/** NVIDIA reserves 255 as OPAQUE_FIELD_ID_INVALID: a device never emits it. */
const INVALID_TYPE = 255;

/**
 * The opaque data as NVIDIA lays it out: [type u16][size u16][value] repeated to the end. A
 * type seen twice is refused, since a reader that takes the first and one that takes the last
 * would then see different values under one signature.
 */
export function parseOpaqueData(bytes: Uint8Array, base: number): OpaqueField[] {
  const reader = new Reader(bytes);
  const fields: OpaqueField[] = [];
  const seen = new Set<number>();
  while (reader.remaining > 0) {
    const offset = base + reader.offset;
    let type: number;
    let size: number;
    let value: Uint8Array;
    try {
      type = reader.uint(2, "opaque field type");
      size = reader.uint(2, "opaque field size");
      value = reader.take(size, `opaque field ${type}`);
    } catch (error) {
      if (error instanceof ParseError) {
        throw new ParseError(MALFORMED, error.field, "overruns the opaque data", offset);
      }
      throw error;
    }
    if (type === INVALID_TYPE) {
      throw new ParseError(MALFORMED, "opaque field type", "is 255 (invalid)", offset);
    }
    if (seen.has(type)) {
      throw new ParseError(MALFORMED, `opaque field ${type}`, "appears twice", offset);
    }
    seen.add(type);
    const name = OPAQUE_FIELD_NAMES[type];
    fields.push(name === undefined ? { type, value, offset } : { type, name, value, offset });
  }
  return fields;
}
