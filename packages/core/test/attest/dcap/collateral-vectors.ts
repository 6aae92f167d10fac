import { X509Certificate } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { TESTVECTORS, VECTOR_INDEX, type VectorEntry } from "../../support/testvectors.js";

/**
 * What the collateral tests need from the DCAP vectors, read independently of the quote parser
 * and PKI modules under test elsewhere: the QE report, the TD body's TCB fields and the PCK
 * certificate's SGX extension (FMSPC, PCE ID, PCESVN, CPUSVN components), by offset and a tiny
 * DER walk (Intel SGX ECDSA Quote Library API, "Quote Format"; TDX DCAP Quoting Library API,
 * v4 and v5; Intel SGX PCK Certificate and CRL Profile, "SGX Extensions").
 */

export function readVector(path: string): Uint8Array {
  return new Uint8Array(readFileSync(TESTVECTORS + path));
}

export interface QuoteFacts {
  readonly tee: "sgx" | "tdx";
  readonly qeReport: {
    readonly mrSigner: Uint8Array;
    readonly isvProdId: number;
    readonly miscSelect: number;
    readonly attributes: Uint8Array;
    readonly isvSvn: number;
  };
  /** TDX only. */
  readonly td?: {
    readonly teeTcbSvn: Uint8Array;
    readonly mrSignerSeam: Uint8Array;
    readonly seamAttributes: Uint8Array;
  };
  readonly pck: {
    readonly fmspc: string;
    readonly pceId: string;
    readonly pceSvn: number;
    readonly cpuSvnComponents: readonly number[];
  };
}

const HEADER = 48;
const ENCLAVE_REPORT = 384;
const TD10_BODY = 584;

export function quoteFacts(quote: Uint8Array): QuoteFacts {
  const view = new DataView(quote.buffer, quote.byteOffset, quote.byteLength);
  const version = view.getUint16(0, true);
  const tee = view.getUint32(4, true) === 0x81 ? "tdx" : "sgx";
  let body = HEADER;
  let bodySize = tee === "tdx" ? TD10_BODY : ENCLAVE_REPORT;
  if (version === 5) {
    bodySize = view.getUint32(HEADER + 2, true);
    body = HEADER + 6;
  }
  let at = body + bodySize + 4 + 64 + 64; // signature data length, signature, attestation key
  if (version >= 4) at += 2 + 4; // certification data type 6 and its size
  const qe = quote.subarray(at, at + ENCLAVE_REPORT);
  at += ENCLAVE_REPORT + 64;
  at += 2 + view.getUint16(at, true); // QE authentication data
  at += 2 + 4; // certification data type 5 and its size
  const pem = new TextDecoder().decode(quote.subarray(at)).split("-----END CERTIFICATE-----")[0];
  const qeView = new DataView(qe.buffer, qe.byteOffset, qe.byteLength);
  return {
    tee,
    qeReport: {
      mrSigner: qe.slice(128, 160),
      isvProdId: qeView.getUint16(256, true),
      miscSelect: qeView.getUint32(16, true),
      attributes: qe.slice(48, 64),
      isvSvn: qeView.getUint16(258, true),
    },
    ...(tee === "tdx"
      ? {
          td: {
            teeTcbSvn: quote.slice(body, body + 16),
            mrSignerSeam: quote.slice(body + 64, body + 112),
            seamAttributes: quote.slice(body + 112, body + 120),
          },
        }
      : {}),
    pck: pckValues(new X509Certificate(`${pem}-----END CERTIFICATE-----\n`).raw),
  };
}

interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

function tlv(der: Uint8Array, at: number): Tlv {
  const tag = der[at] as number;
  let length = der[at + 1] as number;
  let start = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (der[start + i] as number);
    start += n;
  }
  return { tag, start, end: start + length };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; at = out[out.length - 1]?.end as number) {
    out.push(tlv(der, at));
  }
  return out;
}

const SGX_OID = [0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01];

/** The arcs after 1.2.840.113741.1.13.1, e.g. [2, 17] for the PCESVN. */
function sgxArcs(der: Uint8Array, oid: Tlv): number[] {
  const bytes = [...der.subarray(oid.start, oid.end)];
  return bytes.slice(SGX_OID.length);
}

function integer(der: Uint8Array, t: Tlv): number {
  let n = 0;
  for (let i = t.start; i < t.end; i++) n = n * 256 + (der[i] as number);
  return n;
}

function hex(der: Uint8Array, t: Tlv): string {
  return Buffer.from(der.subarray(t.start, t.end)).toString("hex");
}

function pckValues(raw: Buffer): QuoteFacts["pck"] {
  const der = new Uint8Array(raw);
  const needle = Buffer.from([0x06, SGX_OID.length, ...SGX_OID]);
  const oidAt = Buffer.from(der).indexOf(needle);
  if (oidAt < 0) throw new Error("the PCK certificate has no SGX extension");
  let value = tlv(der, tlv(der, oidAt).end);
  if (value.tag === 0x01) value = tlv(der, value.end); // the critical flag comes first
  const extension = tlv(der, value.start);
  let fmspc = "";
  let pceId = "";
  let pceSvn = -1;
  const cpuSvnComponents: number[] = [];
  for (const item of children(der, extension)) {
    const [oid, content] = children(der, item) as [Tlv, Tlv];
    const [arc] = sgxArcs(der, oid);
    if (arc === 3) pceId = hex(der, content);
    if (arc === 4) fmspc = hex(der, content);
    if (arc !== 2) continue;
    for (const component of children(der, content)) {
      const [cOid, cValue] = children(der, component) as [Tlv, Tlv];
      const sub = sgxArcs(der, cOid)[1] as number;
      if (sub >= 1 && sub <= 16) cpuSvnComponents[sub - 1] = integer(der, cValue);
      if (sub === 17) pceSvn = integer(der, cValue);
    }
  }
  return { fmspc, pceId, pceSvn, cpuSvnComponents };
}

/** The ECDSA P-256 key of the first certificate in a PEM chain or a DER file. */
export async function certificateKey(input: string | Uint8Array): Promise<CryptoKey> {
  const spki = new X509Certificate(input).publicKey.export({ type: "spki", format: "der" });
  return crypto.subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" }, false, [
    "verify",
  ]);
}

/** Every file under testvectors/tdx and testvectors/sgx, relative to TESTVECTORS. */
export function dcapVectorFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(TESTVECTORS + dir)) {
      const path = `${dir}/${name}`;
      if (statSync(TESTVECTORS + path).isDirectory()) walk(path);
      else out.push(path);
    }
  };
  walk("tdx");
  walk("sgx");
  return out.sort();
}

/** The index entries whose TCB evaluation the corpus recorded (our_check.platform_tcb_level). */
export function evaluatedEntries(): VectorEntry[] {
  return VECTOR_INDEX.filter(
    (e) =>
      (e.tee === "tdx" || e.tee === "sgx") &&
      typeof e.our_check === "object" &&
      "platform_tcb_level" in e.our_check,
  );
}

/** The quote file of an entry ("quote" or "quote (derived)"). */
export function quotePath(entry: VectorEntry): string {
  const path = entry.files.quote ?? entry.files["quote (derived)"];
  if (path === undefined) throw new Error(`${entry.id} has no quote`);
  return path;
}

/** The first ISO time in an entry's verify_at prose, or the start of its collateral window. */
export function verifyTime(entry: VectorEntry): Date {
  const match = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/.exec(entry.verify_at);
  if (match === null) throw new Error(`${entry.id} names no verification time`);
  return new Date(match[0]);
}
