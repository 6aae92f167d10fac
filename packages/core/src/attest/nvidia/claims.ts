import { toHex } from "../../bytes.js";
import type { GpuEvidence, MeasurementBlock, OpaqueValues } from "./abi/types.js";
import type { NvidiaArchitecture, NvidiaDevice } from "./device.js";
import type { GpuRevocationStatus } from "./revocation.js";
import { NVIDIA_DEVICE_ROOT_NAME, NVIDIA_DEVICE_ROOT_SHA256 } from "./roots.js";

/**
 * What one verified GPU or NVSwitch evidence says, produced only after its signature, chain and
 * nonce checked out. Measurements are kept both by index (for policy) and as the parsed blocks
 * (for a RIM comparison, which needs each block's DMTF type).
 */
export interface GpuClaims {
  readonly architecture: NvidiaArchitecture;
  readonly chip: string;
  readonly kind: "gpu" | "switch";
  /** From the signing certificate: its subject serialNumber and NVIDIA's device identity. */
  readonly serial?: string;
  readonly ueid?: string;
  readonly driverVersion?: string;
  readonly vbiosVersion?: string;
  /** The booted firmware's SHA-384 from the signing certificate, lower-case hex. */
  readonly fwid: string;
  /** The verifier's nonce as the device signed it, lower-case hex. */
  readonly nonce: string;
  /** Measurement index -> value, lower-case hex. */
  readonly measurements: Readonly<Record<number, string>>;
  readonly blocks: readonly MeasurementBlock[];
  readonly measurementCount?: readonly number[];
  readonly nvdec0Status?: OpaqueValues["nvdec0Status"];
  readonly protectedPcieStatus?: OpaqueValues["protectedPcieStatus"];
  /** The CC operating mode that newer firmware signs (feature_flag): SPT, MPT or PPCIE. */
  readonly feature?: OpaqueValues["feature"];
  /**
   * Whether CC mode (and dev-tools mode) is on is not part of the SPDM evidence: NVIDIA's tools
   * read it over NVML/NSCQ, unsigned. It shows only indirectly, in the measurements a RIM
   * comparison checks.
   */
  readonly ccMode: "not-reported";
  /**
   * The chain's OCSP status from the responses the caller supplied: "unknown" when some
   * certificate had no authentic, current response (verification fails outright on "revoked").
   */
  readonly revocation: GpuRevocationStatus;
  /** Every opaque field, decoded as text or hex, by name. */
  readonly opaque: Pick<OpaqueValues, "text" | "hex">;
  readonly trustAnchor: { readonly name: string; readonly fingerprint: string };
}

export function gpuClaims(
  evidence: GpuEvidence,
  device: NvidiaDevice,
  fwid: string,
  revocation: GpuRevocationStatus,
): GpuClaims {
  const values = evidence.values;
  const measurements: Record<number, string> = {};
  for (const block of evidence.response.blocks) measurements[block.index] = toHex(block.value);
  return {
    architecture: device.architecture,
    chip: device.chip,
    kind: device.kind,
    ...(device.serial === undefined ? {} : { serial: device.serial }),
    ...(device.ueid === undefined ? {} : { ueid: device.ueid }),
    ...(values.driverVersion === undefined ? {} : { driverVersion: values.driverVersion }),
    ...(values.vbiosVersion === undefined ? {} : { vbiosVersion: values.vbiosVersion }),
    fwid,
    nonce: toHex(evidence.request.nonce),
    measurements,
    blocks: evidence.response.blocks,
    ...(values.measurementCount === undefined ? {} : { measurementCount: values.measurementCount }),
    ...(values.nvdec0Status === undefined ? {} : { nvdec0Status: values.nvdec0Status }),
    ...(values.protectedPcieStatus === undefined
      ? {}
      : { protectedPcieStatus: values.protectedPcieStatus }),
    ...(values.feature === undefined ? {} : { feature: values.feature }),
    ccMode: "not-reported",
    revocation,
    opaque: { text: values.text, hex: values.hex },
    trustAnchor: { name: NVIDIA_DEVICE_ROOT_NAME, fingerprint: NVIDIA_DEVICE_ROOT_SHA256 },
  };
}
