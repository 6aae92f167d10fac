import type { DcapPlatformClaims } from "../dcap/claims.js";

/** The enclave's report body and the DCAP platform claims, JSON-ready (lower-case hex). */
export interface SgxPlatformClaims extends DcapPlatformClaims {
  readonly mrEnclave: string;
  readonly mrSigner: string;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly attributes: string;
  readonly miscSelect: number;
  readonly configId: string;
  readonly configSvn: number;
  readonly isvExtProdId: string;
  readonly isvFamilyId: string;
  readonly reportCpuSvn: string;
  readonly reportData: string;
}
