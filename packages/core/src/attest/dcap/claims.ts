import { toHex } from "../../bytes.js";
import type { TcbStatus } from "./policy.js";
import { INTEL_ROOT_FINGERPRINT, INTEL_ROOT_NAME } from "./roots.js";
import type { VerifiedQuote } from "./verify-quote.js";

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

/** The shared part of TDX and SGX claims, from a verified quote. */
export function dcapPlatformClaims(verified: VerifiedQuote): DcapPlatformClaims {
  const { quote, pck, tcb } = verified;
  const qe = quote.signatureData.certification.qeReport;
  const pckClaims = pck.extensions;
  return {
    quoteVersion: quote.header.version,
    fmspc: pckClaims.fmspc,
    pceId: pckClaims.pceId,
    pceSvn: pckClaims.pceSvn,
    cpuSvn: toHex(pckClaims.cpuSvn),
    sgxType: pckClaims.sgxType,
    ppid: toHex(pckClaims.ppid),
    pckIssuer: pck.kind,
    qe: {
      vendorId: toHex(quote.header.qeVendorId),
      mrSigner: toHex(qe.mrSigner),
      isvProdId: qe.isvProdId,
      isvSvn: qe.isvSvn,
    },
    ...(tcb === undefined ? {} : { tcb }),
  };
}

/** Every DCAP quote chains to the one pinned Intel root. */
export const INTEL_TRUST_ANCHOR = { name: INTEL_ROOT_NAME, fingerprint: INTEL_ROOT_FINGERPRINT };
