/**
 * Intel DCAP ECDSA quotes as the Quoting Enclave lays them out (Intel SGX ECDSA Quote Library
 * API, "Quote Format"; TDX DCAP Quoting Library API, v4 and v5), decoded into typed fields.
 * Nothing here is trusted: these are the bytes as parsed, before any signature check.
 */

/** TEE_TYPE of the header: SGX enclaves (0x00000000) or TDX trust domains (0x00000081). */
export type TeeType = "sgx" | "tdx";

export interface QuoteHeader {
  /** 3 (SGX), 4 (SGX or TDX) or 5 (body typed by a descriptor: SGX, TDX 1.0 or TDX 1.5). */
  readonly version: number;
  /** 2 = ECDSA-256-with-P-256, the only key type DCAP uses; 3 = ECDSA-384 is refused. */
  readonly attestationKeyType: number;
  readonly teeType: TeeType;
  /** SGX v3 only: QE and PCE SVNs the header carries (TDX headers zero them; take PCE SVN from the PCK certificate). */
  readonly qeSvn: number;
  readonly pceSvn: number;
  readonly qeVendorId: Uint8Array;
  readonly userData: Uint8Array;
}

/** SGX REPORT body (384 bytes): the enclave's identity, as in the QE report too. */
export interface EnclaveReportBody {
  readonly cpuSvn: Uint8Array;
  readonly miscSelect: number;
  readonly isvExtProdId: Uint8Array;
  /** ATTRIBUTES flags (bit 1 = DEBUG) and XFRM. */
  readonly attributes: { readonly flags: bigint; readonly xfrm: bigint; readonly raw: Uint8Array };
  readonly mrEnclave: Uint8Array;
  readonly mrSigner: Uint8Array;
  readonly configId: Uint8Array;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly configSvn: number;
  readonly isvFamilyId: Uint8Array;
  readonly reportData: Uint8Array;
  /** The 384 bytes as they are in the quote (what the QE report signature covers). */
  readonly bytes: Uint8Array;
}

/** TDX TD report body: TDX 1.0 (584 bytes) or TDX 1.5 (648 bytes, with TEE_TCB_SVN2 and MRSERVICETD). */
export interface TdReportBody {
  readonly kind: "td10" | "td15";
  readonly teeTcbSvn: Uint8Array;
  readonly mrSeam: Uint8Array;
  readonly mrSignerSeam: Uint8Array;
  readonly seamAttributes: Uint8Array;
  /** TD_ATTRIBUTES: bit 0 = DEBUG. Raw 8 bytes and the little-endian value. */
  readonly tdAttributes: { readonly value: bigint; readonly raw: Uint8Array };
  readonly xfam: { readonly value: bigint; readonly raw: Uint8Array };
  readonly mrTd: Uint8Array;
  readonly mrConfigId: Uint8Array;
  readonly mrOwner: Uint8Array;
  readonly mrOwnerConfig: Uint8Array;
  /** RTMR0..RTMR3. */
  readonly rtmrs: readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  readonly reportData: Uint8Array;
  /** TD 1.5 only. */
  readonly teeTcbSvn2?: Uint8Array;
  readonly mrServiceTd?: Uint8Array;
}

/** The QE's own report and what binds the attestation key to it (certification data type 6). */
export interface QeReportCertification {
  readonly qeReport: EnclaveReportBody;
  /** r || s, 64 bytes. */
  readonly qeReportSignature: Uint8Array;
  readonly qeAuthData: Uint8Array;
  /** The PCK certificate chain (certification data type 5): PEM text, leaf first, NULs stripped. */
  readonly pckChainPem: string;
}

export interface QuoteSignatureData {
  /** ECDSA P-256 r || s over the quote's `signedBytes`, 64 bytes. */
  readonly signature: Uint8Array;
  /** Raw P-256 public key x || y, 64 bytes. */
  readonly attestationKey: Uint8Array;
  readonly certification: QeReportCertification;
}

export type Quote =
  | {
      readonly teeType: "sgx";
      readonly header: QuoteHeader;
      readonly body: EnclaveReportBody;
      readonly signatureData: QuoteSignatureData;
      /**
       * Header and body exactly as the quote signature covers them: everything before the
       * signature-data length, so in v5 the 6-byte body descriptor too.
       */
      readonly signedBytes: Uint8Array;
    }
  | {
      readonly teeType: "tdx";
      readonly header: QuoteHeader;
      readonly body: TdReportBody;
      readonly signatureData: QuoteSignatureData;
      readonly signedBytes: Uint8Array;
    };
