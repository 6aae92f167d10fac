import type { Check } from "../../types.js";
import type { GpuClaims } from "../claims.js";
import { compareMeasurements } from "./compare.js";
import type { Rim } from "./types.js";

/** The RIMs written for this device's chip (their product names it, punctuation aside). */
export function rimsForChip(claims: GpuClaims, rims: readonly Rim[]): Rim[] {
  const chip = normalise(claims.chip);
  return rims.filter((rim) => normalise(rim.product) === chip);
}

/** Of those, the driver RIM and the VBIOS RIM for the versions the device signed. */
export function rimsForGpu(
  claims: GpuClaims,
  rims: readonly Rim[],
): { readonly driver?: Rim; readonly vbios?: Rim } {
  const mine = rimsForChip(claims, rims);
  const find = (version: string | undefined) =>
    version === undefined
      ? undefined
      : mine.find((r) => r.firmwareVersion === version.toLowerCase());
  const driver = find(claims.driverVersion);
  const vbios = find(claims.vbiosVersion);
  return { ...(driver === undefined ? {} : { driver }), ...(vbios === undefined ? {} : { vbios }) };
}

/**
 * The device's measurements against RIMs, by NVIDIA's rules: RIM index = SPDM block index − 1,
 * and index 35 is not compared when NVDEC0 is disabled (it is then not measured).
 */
export function compareGpuWithRims(claims: GpuClaims, rims: readonly Rim[]): Check[] {
  const measurements = new Map(
    Object.entries(claims.measurements).map(([block, value]) => [Number(block) - 1, value]),
  );
  return compareMeasurements(rims, measurements, {
    skip: claims.nvdec0Status?.state === "disabled" ? [35] : [],
  });
}

const normalise = (name: string) => name.replace(/[^0-9a-z]/gi, "").toUpperCase();
