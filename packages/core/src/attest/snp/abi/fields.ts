import type { GuestPolicy, KeyInfo, PlatformInfo, SigningKey } from "./types.js";

/**
 * Bit-field decoders for the report's flag words. They are total and do no validation: which
 * values are acceptable is the report parser's (well-formedness) or the appraisal policy's
 * (trust) decision, not the decoder's.
 */

function bit(raw: bigint, index: number): boolean {
  return ((raw >> BigInt(index)) & 1n) === 1n;
}

/** POLICY bit 17 is reserved and the firmware refuses to launch a guest unless it is one. */
export const POLICY_RESERVED_ONE_BIT = 17;

export function decodeGuestPolicy(raw: bigint): GuestPolicy {
  return {
    abiMinor: Number(raw & 0xffn),
    abiMajor: Number((raw >> 8n) & 0xffn),
    smt: bit(raw, 16),
    migrateMa: bit(raw, 18),
    debug: bit(raw, 19),
    singleSocket: bit(raw, 20),
    cxlAllow: bit(raw, 21),
    memAes256Xts: bit(raw, 22),
    raplDis: bit(raw, 23),
    ciphertextHiding: bit(raw, 24),
    pageSwapDisable: bit(raw, 25),
    raw,
  };
}

/** Bit 6 (IOMMU write-protection) is not surfaced: no Cloister policy reads it. */
export function decodePlatformInfo(raw: bigint): PlatformInfo {
  return {
    smtEnabled: bit(raw, 0),
    tsmeEnabled: bit(raw, 1),
    eccEnabled: bit(raw, 2),
    raplDisabled: bit(raw, 3),
    ciphertextHidingEnabled: bit(raw, 4),
    aliasCheckComplete: bit(raw, 5),
    tioEnabled: bit(raw, 7),
    raw,
  };
}

const SIGNING_KEYS: Readonly<Record<number, SigningKey>> = { 0: "vcek", 1: "vlek", 7: "none" };

/** Undefined when SIGNING_KEY (bits 4:2) holds one of the values the ABI leaves undefined. */
export function decodeKeyInfo(raw: number): KeyInfo | undefined {
  const signingKey = SIGNING_KEYS[(raw >>> 2) & 0b111];
  if (signingKey === undefined) return undefined;
  return {
    authorKeyEn: (raw & 1) === 1,
    maskChipKey: (raw & 2) === 2,
    signingKey,
    raw: raw >>> 0,
  };
}
