/**
 * The SPDM 1.1 GET_MEASUREMENTS exchange as NVIDIA GPUs and NVSwitches emit it: the request the
 * driver sent, followed by the device's signed MEASUREMENTS response. Parsed, never trusted: only
 * verifyGpuEvidence turns it into claims.
 */

/** The 37-byte GET_MEASUREMENTS request (DSP0274 1.1 §10.11.1) with the signature requested. */
export interface SpdmMeasurementsRequest {
  /** 0x11 for SPDM 1.1. */
  readonly version: number;
  /** Param1: bit 0 asks for a signature, which NVIDIA always sets. */
  readonly attributes: number;
  /** Param2: which measurement the request asked for; 0xff is all of them. */
  readonly operation: number;
  /** The verifier's nonce, which the device signs back: the freshness of the evidence. */
  readonly nonce: Uint8Array;
  readonly slotId: number;
}

/** DSP0274 1.1 Table 45, bits 6:0 of DMTFSpecMeasurementValueType. */
export type DmtfMeasurementKind =
  | "immutable-rom"
  | "mutable-firmware"
  | "hardware-config"
  | "firmware-config"
  | "measurement-manifest"
  | "other";

/** One measurement block of the record, in the DMTF measurement specification's layout. */
export interface MeasurementBlock {
  /** The device's measurement index, 1..254; NVIDIA's RIMs name reference values by it. */
  readonly index: number;
  /** DMTFSpecMeasurementValueType bits 6:0, and its name. */
  readonly valueType: number;
  readonly kind: DmtfMeasurementKind;
  /** Bit 7 of the value type: the value is the raw bit stream rather than a digest. */
  readonly raw: boolean;
  readonly value: Uint8Array;
  /** Where the block starts in the evidence, for messages. */
  readonly offset: number;
}

/** NVIDIA's opaque-data field types (nvtrust's OPAQUE_FIELD_ID_*), by their numeric id. */
export type OpaqueFieldName =
  | "cert_issuer_name"
  | "cert_authority_key_identifier"
  | "driver_version"
  | "gpu_info"
  | "sku"
  | "vbios_version"
  | "manufacturer_id"
  | "tamper_detection"
  | "smc"
  | "vpr"
  | "nvdec0_status"
  | "measurement_count"
  | "cpr_info"
  | "board_id"
  | "chip_sku"
  | "chip_sku_mod"
  | "project"
  | "project_sku"
  | "project_sku_mod"
  | "fwid"
  | "protected_pcie_status"
  | "switch_pdi"
  | "floorswept_ports"
  | "position_id"
  | "lock_switch_status"
  | "gpu_link_conn"
  | "sys_enable_status"
  | "opaque_data_version"
  | "chip_info"
  | "feature_flag";

/** One type-length-value field of the opaque data; `name` is absent for ids NVIDIA has not published. */
export interface OpaqueField {
  readonly type: number;
  readonly name?: OpaqueFieldName;
  readonly value: Uint8Array;
  readonly offset: number;
}

/** The MEASUREMENTS response (DSP0274 1.1 §10.11.2) up to and including its signature. */
export interface SpdmMeasurementsResponse {
  readonly version: number;
  readonly param1: number;
  readonly param2: number;
  readonly blocks: readonly MeasurementBlock[];
  /** The responder's own nonce (not the verifier's: that one is in the request). */
  readonly responderNonce: Uint8Array;
  readonly opaque: readonly OpaqueField[];
  /** ECDSA P-384 signature, raw r‖s (96 bytes). */
  readonly signature: Uint8Array;
}

export interface GpuEvidence {
  readonly request: SpdmMeasurementsRequest;
  readonly response: SpdmMeasurementsResponse;
  /** request ‖ response without its signature: the bytes the signature covers. */
  readonly signedBytes: Uint8Array;
  /**
   * Zero bytes after the signature that the caller chose to tolerate (some collectors pad the
   * report buffer). They are covered by no signature and read by nothing.
   */
  readonly padding: number;
  /** The opaque fields decoded (driver and VBIOS versions, FWID, ...); signed, not yet verified. */
  readonly values: OpaqueValues;
}

/** A one-byte unit status (NVDEC0, protected PCIe): 0xaa enabled, 0x55 disabled. */
export interface UnitStatus {
  readonly raw: number;
  readonly state: "enabled" | "disabled" | "unknown";
}

/** The opaque fields decoded; `text` and `hex` hold every field by name for display and policy. */
export interface OpaqueValues {
  readonly driverVersion?: string;
  /** Lower-case dotted form, e.g. "96.00.9f.00.01". */
  readonly vbiosVersion?: string;
  /** SHA-384 of the firmware the device booted, lower-case hex. */
  readonly fwid?: string;
  /** Per measurement index (1-based): how many times the measurement was extended. */
  readonly measurementCount?: readonly number[];
  readonly nvdec0Status?: UnitStatus;
  readonly protectedPcieStatus?: UnitStatus;
  /** The CC operating mode newer firmware reports: single- or multi-GPU passthrough, protected PCIe. */
  readonly feature?: "SPT" | "MPT" | "PPCIE" | "unknown";
  readonly switchPdis?: readonly string[];
  /** Text fields (driver_version, chip_sku, project, ...), NUL padding removed. */
  readonly text: Readonly<Record<string, string>>;
  /** Every other field as lower-case hex, by name (or "type_<id>" for unpublished ids). */
  readonly hex: Readonly<Record<string, string>>;
}
