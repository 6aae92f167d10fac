import { fromUtf8 } from "../../../bytes.js";
import { ParseError } from "../../../errors.js";
import { ENCLAVE_REPORT_BODY_SIZE, parseEnclaveReportBody } from "./report-body.js";
import type { QeReportCertification, QuoteSignatureData } from "./types.js";

/** Certification data types (Intel SGX ECDSA Quote Library API, "Certification Data Type"). */
export const CERT_TYPE_PCK_CHAIN = 5;
export const CERT_TYPE_QE_REPORT = 6;

/**
 * A bounded window on the quote: reads advance through [at, end) and never past it, and every
 * refusal carries the absolute offset in the quote. `name` says, in messages, whose bytes end.
 */
class Region {
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    public at: number,
    readonly end: number,
    readonly name: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get left(): number {
    return this.end - this.at;
  }

  /** Moves past `length` bytes and returns where they start; refuses to cross `end`. */
  private advance(length: number, field: string): number {
    if (length > this.left) {
      throw new ParseError(
        "dcap.quote.signature_data",
        field,
        `needs ${length} bytes, but the ${this.name} has ${this.left} left`,
        this.at,
      );
    }
    const start = this.at;
    this.at += length;
    return start;
  }

  take(length: number, field: string): Uint8Array {
    const start = this.advance(length, field);
    return this.bytes.slice(start, start + length);
  }

  u16(field: string): number {
    return this.view.getUint16(this.advance(2, field), true);
  }

  u32(field: string): number {
    return this.view.getUint32(this.advance(4, field), true);
  }

  /** The next `length` bytes as a region of their own; this one moves past them. */
  sub(length: number, field: string, name: string): Region {
    const start = this.advance(length, field);
    return new Region(this.bytes, start, start + length, name);
  }
}

/**
 * Signature data at bytes [start, end) of `quote` -> QuoteSignatureData, `end` being where the
 * declared signature-data length puts it. Version 3 follows the attestation key with the QE
 * report, its signature, the QE auth data and then the PCK chain (certification data type 5);
 * versions 4 and 5 wrap those same parts in certification data type 6.
 *
 * Each declared size must account exactly for the bytes of the part that holds it: a size that
 * overruns its container, or one that leaves bytes over, means producer and parser disagree on
 * the layout, and leftover bytes would be unauthenticated data nobody looked at.
 */
export function parseSignatureData(
  quote: Uint8Array,
  start: number,
  end: number,
  version: number,
): QuoteSignatureData {
  const data = new Region(quote, start, end, "signature data");
  const signature = data.take(64, "signature");
  const attestationKey = data.take(64, "attestation_key");
  const certification = qeReportCertification(
    version === 3 ? data : certificationData(data, QE_REPORT_DATA),
  );
  return { signature, attestationKey, certification };
}

/** What one level of certification data must hold, for the checks and their messages. */
interface CertificationKind {
  readonly type: number;
  readonly field: string;
  readonly name: string;
}

const QE_REPORT_DATA: CertificationKind = {
  type: CERT_TYPE_QE_REPORT,
  field: "certification_data",
  name: "QE report certification data",
};
const PCK_CHAIN: CertificationKind = {
  type: CERT_TYPE_PCK_CHAIN,
  field: "pck_cert_chain",
  name: "PCK certificate chain",
};

/** QE report, its signature, QE auth data, then the PCK chain: they fill `region` exactly. */
function qeReportCertification(region: Region): QeReportCertification {
  const qeReport = parseEnclaveReportBody(region.take(ENCLAVE_REPORT_BODY_SIZE, "qe_report"));
  const qeReportSignature = region.take(64, "qe_report_signature");
  const authSizeAt = region.at;
  const authSize = region.u16("qe_auth_data.size");
  if (authSize > region.left) {
    throw new ParseError(
      "dcap.quote.qe_auth_data",
      "qe_auth_data.size",
      `declares ${authSize} bytes, but the ${region.name} has ${region.left} left`,
      authSizeAt,
    );
  }
  const qeAuthData = region.take(authSize, "qe_auth_data");
  const pckChainPem = pemText(certificationData(region, PCK_CHAIN));
  return { qeReport, qeReportSignature, qeAuthData, pckChainPem };
}

/**
 * Certification data (type u16, size u32, data) of the expected type -> the region of its data,
 * which must be exactly what is left of `parent`: certification data is always the last part
 * of what holds it.
 */
function certificationData(parent: Region, kind: CertificationKind): Region {
  const typeAt = parent.at;
  const type = parent.u16(`${kind.field}.type`);
  if (type !== kind.type) {
    throw new ParseError(
      "dcap.quote.certification_type",
      `${kind.field}.type`,
      `must be ${kind.type} (${kind.name}), got ${type}`,
      typeAt,
    );
  }
  const sizeAt = parent.at;
  const size = parent.u32(`${kind.field}.size`);
  if (size !== parent.left) {
    throw new ParseError(
      "dcap.quote.certification_data",
      `${kind.field}.size`,
      size > parent.left
        ? `declares ${size} bytes, but the ${parent.name} has ${parent.left} left`
        : `declares ${size} bytes, leaving ${parent.left - size} bytes of the ${parent.name} unaccounted for`,
      sizeAt,
    );
  }
  return parent.sub(size, kind.field, kind.name);
}

/** PEM is ASCII (RFC 7468): printable characters and line breaks; quoting enclaves add NULs. */
function pemText(region: Region): string {
  const start = region.at;
  const raw = region.take(region.left, "pck_cert_chain");
  let length = raw.length;
  while (length > 0 && raw[length - 1] === 0) length--;
  if (length === 0) {
    throw new ParseError("dcap.quote.pck_chain", "pck_cert_chain", "is empty", start);
  }
  for (let i = 0; i < length; i++) {
    const c = raw[i] as number;
    if (!(c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c <= 0x7e))) {
      throw new ParseError(
        "dcap.quote.pck_chain",
        "pck_cert_chain",
        `must be PEM text, but has byte 0x${c.toString(16).padStart(2, "0")}`,
        start + i,
      );
    }
  }
  return fromUtf8(raw.subarray(0, length));
}
