import { CloisterError } from "../../../errors.js";
import type { Cpuid, TcbLayout, TcbVersion } from "./types.js";

/** The security patch levels of a TCB_VERSION, without its raw encoding. */
export interface TcbParts {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  /** Turin only; must be absent (or zero) for Milan/Genoa. */
  readonly fmc?: number;
}

/**
 * Byte index of each component inside the little-endian u64. Turin (family 1Ah) inserted the
 * FMC level in front and packed the rest; reading a Turin TCB with the Milan layout would
 * compare the wrong bytes against the VCEK, so the layout always travels with the value.
 */
const BYTE_OF = {
  "milan-genoa": { bootloader: 0, tee: 1, snp: 6, microcode: 7 },
  turin: { fmc: 0, bootloader: 1, tee: 2, snp: 3, microcode: 7 },
} as const;

function byteAt(raw: bigint, index: number): number {
  return Number((raw >> BigInt(8 * index)) & 0xffn);
}

/** Turin reports carry CPUID family 1Ah; everything else (and v2 reports, which lack CPUID) uses the Milan/Genoa layout. */
export function tcbLayoutOf(cpuid: Cpuid | undefined): TcbLayout {
  return cpuid?.family === 0x1a ? "turin" : "milan-genoa";
}

/** Total: any 64-bit value decodes (reserved bytes are ignored, as the firmware may set them). */
export function decodeTcb(raw: bigint, layout: TcbLayout): TcbVersion {
  const value = BigInt.asUintN(64, raw);
  if (layout === "turin") {
    const at = BYTE_OF.turin;
    return {
      bootloader: byteAt(value, at.bootloader),
      tee: byteAt(value, at.tee),
      snp: byteAt(value, at.snp),
      microcode: byteAt(value, at.microcode),
      fmc: byteAt(value, at.fmc),
      raw: value,
    };
  }
  const at = BYTE_OF["milan-genoa"];
  return {
    bootloader: byteAt(value, at.bootloader),
    tee: byteAt(value, at.tee),
    snp: byteAt(value, at.snp),
    microcode: byteAt(value, at.microcode),
    raw: value,
  };
}

/** The inverse of decodeTcb, for building KDS queries and test reports. */
export function encodeTcb(parts: TcbParts, layout: TcbLayout): bigint {
  const at: Readonly<Record<string, number>> = BYTE_OF[layout];
  if (layout === "milan-genoa" && parts.fmc !== undefined && parts.fmc !== 0) {
    throw new CloisterError("snp.tcb.encode", "Milan and Genoa TCB versions have no FMC level.");
  }
  let raw = 0n;
  for (const name of ["bootloader", "tee", "snp", "microcode", "fmc"] as const) {
    const index = at[name];
    if (index === undefined) continue;
    const level = parts[name] ?? 0;
    if (!Number.isInteger(level) || level < 0 || level > 0xff) {
      throw new CloisterError(
        "snp.tcb.encode",
        `The ${name} security patch level must be an integer from 0 to 255, got ${level}.`,
      );
    }
    raw |= BigInt(level) << BigInt(8 * index);
  }
  return raw;
}

/** "bl 2, tee 0, snp 5, ucode 68" (", fmc 0" on Turin): the form messages quote. */
export function formatTcb(tcb: TcbParts): string {
  const text = `bl ${tcb.bootloader}, tee ${tcb.tee}, snp ${tcb.snp}, ucode ${tcb.microcode}`;
  return tcb.fmc === undefined ? text : `${text}, fmc ${tcb.fmc}`;
}
