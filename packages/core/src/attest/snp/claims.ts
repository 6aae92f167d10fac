import { toHex } from "../../bytes.js";
import type { Claims } from "../types.js";
import type {
  FirmwareVersion,
  GuestPolicy,
  PlatformInfo,
  SigningKey,
  SnpProduct,
  SnpReport,
  TcbVersion,
} from "./abi/types.js";

/** TCB as it appears in claims: the parts plus the raw value as 16 hex digits. */
export interface TcbClaim {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  readonly fmc?: number;
  readonly raw: string;
}

/**
 * The SEV-SNP fields of a verified report, JSON-ready (hex strings, no bigints), under
 * `Claims.platformClaims`. Appraisal reads them from here, never from the raw report.
 */
export interface SnpPlatformClaims {
  readonly product: SnpProduct;
  readonly productName: string;
  readonly signingKey: Exclude<SigningKey, "none">;
  /** The cloud provider that holds the VLEK (VLEK-signed reports only). */
  readonly cspId?: string;
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: Omit<GuestPolicy, "raw"> & { readonly raw: string };
  readonly familyId: string;
  readonly imageId: string;
  readonly vmpl: number;
  readonly signatureAlgorithm: number;
  readonly currentTcb: TcbClaim;
  readonly reportedTcb: TcbClaim;
  readonly committedTcb: TcbClaim;
  readonly launchTcb: TcbClaim;
  readonly platformInfo: Omit<PlatformInfo, "raw"> & { readonly raw: string };
  readonly authorKeyEn: boolean;
  readonly maskChipKey: boolean;
  readonly reportData: string;
  readonly hostData: string;
  readonly idKeyDigest: string;
  readonly authorKeyDigest: string;
  readonly reportId: string;
  readonly reportIdMa: string;
  readonly chipId: string;
  readonly cpuid?: { readonly family: number; readonly model: number; readonly stepping: number };
  readonly firmware: string;
  readonly committedFirmware: string;
  readonly launchMitigationVector?: string;
  readonly currentMitigationVector?: string;
  /** "checked" when an AMD CRL was verified and lists neither certificate; otherwise "unknown". */
  readonly revocation: "checked" | "unknown";
}

export interface SnpIdentity {
  readonly product: SnpProduct;
  readonly productName: string;
  readonly signingKey: Exclude<SigningKey, "none">;
  readonly cspId?: string;
  readonly anchor: { readonly name: string; readonly fingerprint: string };
  readonly revocation: "checked" | "unknown";
}

export function snpClaims(
  report: SnpReport,
  tcbs: {
    readonly current: TcbVersion;
    readonly reported: TcbVersion;
    readonly committed: TcbVersion;
    readonly launch: TcbVersion;
  },
  identity: SnpIdentity,
  reportData: Uint8Array = report.reportData,
): Claims {
  const chipId = toHex(report.chipId);
  const { raw: policyRaw, ...policy } = report.policy;
  const { raw: infoRaw, ...platformInfo } = report.platformInfo;
  const platformClaims: SnpPlatformClaims = {
    product: identity.product,
    productName: identity.productName,
    signingKey: identity.signingKey,
    ...(identity.cspId === undefined ? {} : { cspId: identity.cspId }),
    version: report.version,
    guestSvn: report.guestSvn,
    policy: { ...policy, raw: hex64(policyRaw) },
    familyId: toHex(report.familyId),
    imageId: toHex(report.imageId),
    vmpl: report.vmpl,
    signatureAlgorithm: report.signatureAlgorithm,
    currentTcb: tcbClaim(tcbs.current),
    reportedTcb: tcbClaim(tcbs.reported),
    committedTcb: tcbClaim(tcbs.committed),
    launchTcb: tcbClaim(tcbs.launch),
    platformInfo: { ...platformInfo, raw: hex64(infoRaw) },
    authorKeyEn: report.keyInfo.authorKeyEn,
    maskChipKey: report.keyInfo.maskChipKey,
    reportData: toHex(report.reportData),
    hostData: toHex(report.hostData),
    idKeyDigest: toHex(report.idKeyDigest),
    authorKeyDigest: toHex(report.authorKeyDigest),
    reportId: toHex(report.reportId),
    reportIdMa: toHex(report.reportIdMa),
    chipId,
    ...(report.cpuid === undefined ? {} : { cpuid: { ...report.cpuid } }),
    firmware: firmwareText(report.currentVersion),
    committedFirmware: firmwareText(report.committedVersion),
    ...(report.launchMitigationVector === undefined
      ? {}
      : { launchMitigationVector: hex64(report.launchMitigationVector) }),
    ...(report.currentMitigationVector === undefined
      ? {}
      : { currentMitigationVector: hex64(report.currentMitigationVector) }),
    revocation: identity.revocation,
  };
  // A zero CHIP_ID (VLEK-signed or MASK_CHIP_KEY reports) identifies nothing.
  const anonymous = report.chipId.every((b) => b === 0);
  return {
    platform: "sev-snp",
    measurement: toHex(report.measurement),
    reportData,
    debug: report.policy.debug,
    ...(anonymous ? {} : { hardwareId: chipId }),
    trustAnchor: identity.anchor,
    platformClaims: platformClaims as unknown as Readonly<Record<string, unknown>>,
  };
}

export function firmwareText(version: FirmwareVersion): string {
  return `${version.major}.${version.minor}.${version.build}`;
}

function tcbClaim(tcb: TcbVersion): TcbClaim {
  return {
    bootloader: tcb.bootloader,
    tee: tcb.tee,
    snp: tcb.snp,
    microcode: tcb.microcode,
    ...(tcb.fmc === undefined ? {} : { fmc: tcb.fmc }),
    raw: hex64(tcb.raw),
  };
}

function hex64(value: bigint): string {
  return value.toString(16).padStart(16, "0");
}
