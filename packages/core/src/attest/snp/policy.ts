import { hexSettingList, invalidSetting, settingList, settingObject } from "../policy-settings.js";
import type { SigningKey, SnpProduct } from "./abi/types.js";

/** Minimum security patch level per firmware component; absent components are not checked. */
export interface MinimumTcb {
  readonly bootloader?: number;
  readonly tee?: number;
  readonly snp?: number;
  readonly microcode?: number;
  /** Turin only. */
  readonly fmc?: number;
}

/**
 * SEV-SNP rules on top of the common policy (measurements, hardwareIds = chip IDs, allowDebug).
 * Hex values are compared case-insensitively. Absent means "not pinned".
 */
export interface SnpPolicy {
  readonly products?: readonly SnpProduct[];
  /** Compared with REPORTED_TCB, the TCB the VCEK was issued for. */
  readonly minimumTcb?: MinimumTcb;
  /** "major.minor" or "major.minor.build" of the running SNP firmware. */
  readonly minimumFirmware?: string;
  readonly minimumGuestSvn?: number;
  readonly hostData?: readonly string[];
  readonly idKeyDigests?: readonly string[];
  readonly authorKeyDigests?: readonly string[];
  readonly familyIds?: readonly string[];
  readonly imageIds?: readonly string[];
  /** Allowed VMPLs; 0 is the most privileged level, the one a guest without an SVSM reports. */
  readonly vmpls?: readonly number[];
  /** Allowed signing keys: the chip-unique VCEK or a cloud provider's VLEK. Default both. */
  readonly signingKeys?: readonly Exclude<SigningKey, "none">[];
  /** A migration agent can export the guest's memory; refused unless this is true. */
  readonly allowMigrationAgent?: boolean;
  /** When true, the guest policy must forbid SMT and the platform must run with SMT off. */
  readonly requireSmtDisabled?: boolean;
  /** When true, "revocation unknown" (no AMD CRL supplied) fails instead of being noted. */
  readonly requireRevocationCheck?: boolean;
}

const PRODUCTS: readonly SnpProduct[] = ["Milan", "Genoa", "Turin"];
const TCB_PARTS = ["bootloader", "tee", "snp", "microcode", "fmc"] as const;
const HEX_LISTS = [
  "hostData",
  "idKeyDigests",
  "authorKeyDigests",
  "familyIds",
  "imageIds",
] as const;
const BOOLEANS = ["allowMigrationAgent", "requireSmtDisabled", "requireRevocationCheck"] as const;

/** Checks an `snp` policy section read from JSON; every mistake is named. */
export function parseSnpPolicy(value: unknown): SnpPolicy {
  const section = settingObject(value, "snp");
  const known = new Set<string>([
    "products",
    "minimumTcb",
    "minimumFirmware",
    "minimumGuestSvn",
    "vmpls",
    "signingKeys",
    ...HEX_LISTS,
    ...BOOLEANS,
  ]);
  for (const key of Object.keys(section)) {
    if (!known.has(key)) invalidSetting(`snp.${key}`, "is not a known SEV-SNP policy setting");
  }
  if (section.products !== undefined) {
    for (const p of settingList(section.products, "snp.products")) {
      if (!PRODUCTS.includes(p as SnpProduct)) {
        invalidSetting("snp.products", `must name products among ${PRODUCTS.join(", ")}`);
      }
    }
  }
  if (section.minimumTcb !== undefined) {
    const tcb = settingObject(section.minimumTcb, "snp.minimumTcb");
    for (const [key, spl] of Object.entries(tcb)) {
      if (!(TCB_PARTS as readonly string[]).includes(key)) {
        invalidSetting(`snp.minimumTcb.${key}`, `is not a TCB component (${TCB_PARTS.join(", ")})`);
      }
      byte(spl, `snp.minimumTcb.${key}`);
    }
  }
  if (section.minimumFirmware !== undefined) parseFirmwareVersion(section.minimumFirmware);
  if (section.minimumGuestSvn !== undefined) {
    const svn = section.minimumGuestSvn;
    if (typeof svn !== "number" || !Number.isInteger(svn) || svn < 0 || svn > 0xffffffff) {
      invalidSetting("snp.minimumGuestSvn", "must be an unsigned 32-bit integer");
    }
  }
  for (const key of HEX_LISTS) {
    if (section[key] !== undefined) hexSettingList(section[key], `snp.${key}`);
  }
  if (section.vmpls !== undefined) {
    for (const vmpl of settingList(section.vmpls, "snp.vmpls")) {
      if (typeof vmpl !== "number" || !Number.isInteger(vmpl) || vmpl < 0 || vmpl > 3) {
        invalidSetting("snp.vmpls", "must be a list of VMPLs from 0 to 3");
      }
    }
  }
  if (section.signingKeys !== undefined) {
    for (const key of settingList(section.signingKeys, "snp.signingKeys")) {
      if (key !== "vcek" && key !== "vlek")
        invalidSetting("snp.signingKeys", 'must list "vcek" or "vlek"');
    }
  }
  for (const key of BOOLEANS) {
    if (section[key] !== undefined && typeof section[key] !== "boolean") {
      invalidSetting(`snp.${key}`, "must be true or false");
    }
  }
  return section as SnpPolicy;
}

export interface FirmwareVersionFloor {
  readonly major: number;
  readonly minor: number;
  readonly build?: number;
}

/** "1.55" or "1.55.21" into numbers; anything else is a policy error. */
export function parseFirmwareVersion(value: unknown): FirmwareVersionFloor {
  const match =
    typeof value === "string" ? /^(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?$/.exec(value) : null;
  if (match === null) invalidSetting("snp.minimumFirmware", 'must look like "1.55" or "1.55.21"');
  const [, major, minor, build] = match;
  return {
    major: Number(major),
    minor: Number(minor),
    ...(build === undefined ? {} : { build: Number(build) }),
  };
}

function byte(value: unknown, name: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 255) {
    invalidSetting(name, "must be an integer from 0 to 255");
  }
}
