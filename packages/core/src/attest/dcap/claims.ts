import type { TcbStatus } from "./policy.js";

/** The outcome of evaluating the quote against Intel's collateral, JSON-ready. */
export interface DcapTcbClaim {
  /** The converged status, spelt as Intel spells it. */
  readonly status: TcbStatus;
  /** Every advisory that applies (platform, QE and TDX module), sorted. */
  readonly advisoryIds: readonly string[];
  /** The date of the matched platform TCB level. */
  readonly tcbDate: string;
  readonly tcbEvaluationDataNumber: number;
  readonly platformStatus: TcbStatus;
  readonly qeStatus: TcbStatus;
  /** TDX with a module identity (TEE_TCB_SVN byte 1 non-zero) only. */
  readonly moduleId?: string;
  readonly moduleStatus?: TcbStatus;
  readonly tcbInfoIssueDate: string;
  readonly tcbInfoNextUpdate: string;
  readonly qeIdentityIssueDate: string;
  readonly qeIdentityNextUpdate: string;
}

/** What TDX and SGX claims share: the platform identity from the PCK certificate and the TCB. */
export interface DcapPlatformClaims {
  readonly quoteVersion: number;
  /** From the PCK certificate (lower-case hex). */
  readonly fmspc: string;
  readonly pceId: string;
  readonly pceSvn: number;
  readonly cpuSvn: string;
  readonly sgxType: string;
  readonly ppid: string;
  /** "platform" or "processor": which Intel CA issued the PCK certificate. */
  readonly pckIssuer: string;
  readonly qe: {
    readonly vendorId: string;
    readonly mrSigner: string;
    readonly isvProdId: number;
    readonly isvSvn: number;
  };
  /** Absent when no collateral was supplied: the TCB was not evaluated. */
  readonly tcb?: DcapTcbClaim;
}
