import type { DcapPlatformClaims } from "../dcap/claims.js";

/** What the replayed CCEL event log says was booted. */
export interface EventLogClaim {
  /** RTMR0–2 equal the replay of the log: the log describes what the TD measured. */
  readonly replayed: true;
  readonly events: number;
  /** Only when its event's digest is the hash of this very text. */
  readonly kernelCmdline?: string;
  /** SHA-384 (as extended) of the kernel image, lower-case hex. */
  readonly kernel?: string;
  /** SHA-384 of each EFI boot application in log order (shim, GRUB, a UKI). */
  readonly bootApplications: readonly string[];
  readonly secureBoot?: boolean;
}

/** The TD report body and the DCAP platform claims, JSON-ready (lower-case hex). */
export interface TdxPlatformClaims extends DcapPlatformClaims {
  readonly teeTcbSvn: string;
  readonly mrSeam: string;
  readonly mrSignerSeam: string;
  readonly seamAttributes: string;
  readonly tdAttributes: string;
  readonly xfam: string;
  readonly mrTd: string;
  readonly mrConfigId: string;
  readonly mrOwner: string;
  readonly mrOwnerConfig: string;
  readonly rtmr0: string;
  readonly rtmr1: string;
  readonly rtmr2: string;
  readonly rtmr3: string;
  readonly reportData: string;
  /** TDX 1.5 bodies only. */
  readonly teeTcbSvn2?: string;
  readonly mrServiceTd?: string;
  /** Present when the CCEL was supplied and its replay matched. */
  readonly eventLog?: EventLogClaim;
}
