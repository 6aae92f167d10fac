/**
 * The AMD SEV-SNP attestation report as the firmware lays it out (SEV Secure Nested Paging
 * Firmware ABI Specification, "ATTESTATION_REPORT Structure"), decoded into typed fields.
 * Nothing here is trusted: these are the bytes as parsed, before any signature check.
 */

/** Which byte layout a TCB_VERSION uses: Turin (family 1Ah) adds FMC and moves the fields. */
export type TcbLayout = "milan-genoa" | "turin";

/** SEV-SNP products whose roots Cloister pins. */
export type SnpProduct = "Milan" | "Genoa" | "Turin";

/** A TCB_VERSION: the security patch level (SPL) of each firmware component. */
export interface TcbVersion {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  /** Turin only. */
  readonly fmc?: number;
  /** The 64-bit value as the report holds it (little-endian in the report). */
  readonly raw: bigint;
}

/** The guest policy the hypervisor launched the guest with (POLICY, offset 0x08). */
export interface GuestPolicy {
  readonly abiMinor: number;
  readonly abiMajor: number;
  /** SMT (hyper-threading) is allowed. */
  readonly smt: boolean;
  /** A migration agent may be associated with the guest. */
  readonly migrateMa: boolean;
  readonly debug: boolean;
  readonly singleSocket: boolean;
  readonly cxlAllow: boolean;
  /** AES-256-XTS memory encryption is required. */
  readonly memAes256Xts: boolean;
  /** Running Average Power Limit must be disabled. */
  readonly raplDis: boolean;
  readonly ciphertextHiding: boolean;
  readonly pageSwapDisable: boolean;
  readonly raw: bigint;
}

/** PLATFORM_INFO (offset 0x40): how the host platform is configured. */
export interface PlatformInfo {
  readonly smtEnabled: boolean;
  readonly tsmeEnabled: boolean;
  readonly eccEnabled: boolean;
  readonly raplDisabled: boolean;
  readonly ciphertextHidingEnabled: boolean;
  readonly aliasCheckComplete: boolean;
  readonly tioEnabled: boolean;
  readonly raw: bigint;
}

/** Which key signed the report (KEY_INFO bits 4:2). */
export type SigningKey = "vcek" | "vlek" | "none";

/** Offset 0x48: AUTHOR_KEY_EN, MASK_CHIP_KEY, SIGNING_KEY. */
export interface KeyInfo {
  readonly authorKeyEn: boolean;
  readonly maskChipKey: boolean;
  readonly signingKey: SigningKey;
  readonly raw: number;
}

export interface Cpuid {
  /** Extended family + base family, e.g. 0x19 (Milan, Genoa) or 0x1a (Turin). */
  readonly family: number;
  readonly model: number;
  readonly stepping: number;
}

export interface FirmwareVersion {
  readonly major: number;
  readonly minor: number;
  readonly build: number;
}

export interface SnpReport {
  /** 2, 3 or 5. */
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: GuestPolicy;
  readonly familyId: Uint8Array;
  readonly imageId: Uint8Array;
  readonly vmpl: number;
  /** 1 = ECDSA P-384 with SHA-384, the only algorithm the firmware uses. */
  readonly signatureAlgorithm: number;
  /** The TCB layout the TCB fields were decoded with (from CPUID; Milan/Genoa for v2). */
  readonly tcbLayout: TcbLayout;
  readonly currentTcb: TcbVersion;
  readonly platformInfo: PlatformInfo;
  readonly keyInfo: KeyInfo;
  readonly reportData: Uint8Array;
  readonly measurement: Uint8Array;
  readonly hostData: Uint8Array;
  readonly idKeyDigest: Uint8Array;
  readonly authorKeyDigest: Uint8Array;
  readonly reportId: Uint8Array;
  readonly reportIdMa: Uint8Array;
  readonly reportedTcb: TcbVersion;
  /** Version 3 and later. */
  readonly cpuid?: Cpuid;
  /** The product CPUID names, when the report carries CPUID and the family/model is known. */
  readonly product?: SnpProduct;
  readonly chipId: Uint8Array;
  readonly committedTcb: TcbVersion;
  readonly currentVersion: FirmwareVersion;
  readonly committedVersion: FirmwareVersion;
  readonly launchTcb: TcbVersion;
  /** Version 5 and later. */
  readonly launchMitigationVector?: bigint;
  readonly currentMitigationVector?: bigint;
  /** r and s of the ECDSA P-384 signature, each 48 bytes big-endian (the report stores them little-endian). */
  readonly signature: { readonly r: Uint8Array; readonly s: Uint8Array };
  /** Bytes 0x000-0x29F: what the signature covers. */
  readonly signedBytes: Uint8Array;
  /** The whole 1184-byte report. */
  readonly bytes: Uint8Array;
}
