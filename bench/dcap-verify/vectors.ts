/**
 * The real Intel DCAP quotes the benchmark verifies, each with collateral that both Cloister and
 * @phala/dcap-qvl accept offline, read from testvectors/index.json. Both tools get the same
 * collateral text: dcap-qvl's `QuoteCollateralV3` JSON, which Cloister reads too. Vectors that
 * ship Intel PCS files instead (automata-*) are converted into that shape here; nothing is
 * re-signed, so a conversion that moved one byte of a signed document would fail verification
 * in both tools and abort the run.
 */

import { X509Certificate } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import {
  TESTVECTORS,
  type VectorEntry,
  vectorEntry,
} from "../../packages/core/test/support/testvectors.js";

/**
 * dcap-qvl's own vectors first (the pair the comparison is built on), then a TDX v5 quote
 * (TD 1.5 body) whose collateral comes as Intel PCS files.
 */
export const VECTOR_IDS = [
  "tdx/dcap-qvl-uptodate",
  "sgx/dcap-qvl",
  "tdx/automata-alibaba-v5",
] as const;

export type Tee = "tdx" | "sgx";

export interface DcapVector {
  readonly id: (typeof VECTOR_IDS)[number];
  readonly tee: Tee;
  /** DCAP quote version (3 for SGX, 4 or 5 for TDX), from the quote's header. */
  readonly quoteVersion: number;
  readonly quote: Uint8Array;
  /** dcap-qvl `QuoteCollateralV3` JSON text: what both implementations are given. */
  readonly collateralText: string;
  /** "dcap-qvl" when the vector ships that JSON, "pcs-files" when it was assembled here. */
  readonly collateralSource: "dcap-qvl" | "pcs-files";
  readonly verifyAt: Date;
  /** The TCB status index.json records for the platform; the QE must be UpToDate. */
  readonly expectedStatus: string;
  readonly expectedAdvisoryIds: readonly string[];
}

interface OurCheck {
  readonly collateral_window: readonly [string, string];
  readonly qe: { readonly qe_tcb_status: string };
  readonly platform_tcb_level: readonly [string, readonly string[] | null, string];
}

export function loadVectors(): DcapVector[] {
  return VECTOR_IDS.map((id) => {
    const entry = vectorEntry(id);
    const tee = entry.tee;
    if (tee !== "tdx" && tee !== "sgx") throw new Error(`${id} is not a TDX or SGX vector.`);
    if (typeof entry.our_check !== "object")
      throw new Error(`${id} has no our_check in index.json.`);
    const check = entry.our_check as unknown as OurCheck;
    if (check.qe.qe_tcb_status !== "UpToDate") {
      throw new Error(
        `${id}: the QE is ${check.qe.qe_tcb_status}; the benchmark expects UpToDate.`,
      );
    }
    const quotePath = entry.files.quote ?? entry.files["quote (derived)"];
    if (quotePath === undefined) throw new Error(`${id} names no quote file.`);
    const quote = read(quotePath);
    const shipped = entry.files.collateral;
    const [expectedStatus, advisories] = check.platform_tcb_level;
    return {
      id,
      tee,
      quoteVersion: new DataView(quote.buffer, quote.byteOffset).getUint16(0, true),
      quote,
      collateralText:
        shipped === undefined
          ? collateralFromPcsFiles(entry)
          : readFileSync(TESTVECTORS + shipped, "utf8"),
      collateralSource: shipped === undefined ? "pcs-files" : "dcap-qvl",
      verifyAt: verifyAt(entry, check),
      expectedStatus,
      expectedAdvisoryIds: [...(advisories ?? [])].sort(),
    };
  });
}

/**
 * The time the index names when `verify_at` starts with one (dcap-qvl's rule: the end of the
 * common collateral window minus 1 s); otherwise that same rule applied to the window the
 * index's own check computed.
 */
function verifyAt(entry: VectorEntry, check: OurCheck): Date {
  const named = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/.exec(entry.verify_at)?.[0];
  if (named !== undefined) return new Date(named);
  const end = Date.parse(check.collateral_window[1].replace(" ", "T"));
  if (Number.isNaN(end)) throw new Error(`${entry.id}: no time to verify at.`);
  return new Date(end - 1000);
}

/**
 * dcap-qvl collateral from Intel PCS files: the signed `tcbInfo` / `enclaveIdentity` value cut
 * out of each PCS body byte for byte (Intel's signature covers exactly those bytes), the
 * signatures and CRLs as hex, and the issuer chains as PEM built from the PCS certificates
 * (TCB Signing and PCK Platform CA, each followed by the root).
 */
function collateralFromPcsFiles(entry: VectorEntry): string {
  const files = entry.files;
  const need = (role: string): string => {
    const path = files[role];
    if (path === undefined) throw new Error(`${entry.id} names no ${role}.`);
    return path;
  };
  const certificates = new Map(
    readdirSync(TESTVECTORS + need("pcs_certs"))
      .filter((name) => name.endsWith(".der"))
      .map((name) => [name, read(`${files.pcs_certs}${name}`)] as const),
  );
  const pemOf = (commonName: string): string => {
    for (const [name, der] of certificates) {
      if (name.includes("_crl")) continue;
      const certificate = new X509Certificate(der);
      if (certificate.subject.split("\n").includes(`CN=${commonName}`))
        return certificate.toString();
    }
    throw new Error(`${entry.id}: its PCS certificates hold no ${commonName}.`);
  };
  const rootCrl = [...certificates].find(([name]) => name.startsWith("Intel_SGX_Root_CA_crl"));
  if (rootCrl === undefined) throw new Error(`${entry.id}: its PCS certificates hold no root CRL.`);
  const root = pemOf("Intel SGX Root CA");
  const tcbInfo = signedMember(readFileSync(TESTVECTORS + need("tcb_info"), "utf8"), "tcbInfo");
  const qeIdentity = signedMember(
    readFileSync(TESTVECTORS + need("qe_identity"), "utf8"),
    "enclaveIdentity",
  );
  // The member order of dcap-qvl's own collateral files.
  return JSON.stringify({
    pck_crl_issuer_chain: pemOf("Intel SGX PCK Platform CA") + root,
    root_ca_crl: hex(rootCrl[1]),
    pck_crl: hex(read(need("pck_crl"))),
    tcb_info_issuer_chain: pemOf("Intel SGX TCB Signing") + root,
    tcb_info: tcbInfo.value,
    tcb_info_signature: tcbInfo.signature,
    qe_identity_issuer_chain: pemOf("Intel SGX TCB Signing") + root,
    qe_identity: qeIdentity.value,
    qe_identity_signature: qeIdentity.signature,
  });
}

/**
 * A compact PCS body `{"<key>":<value>,"signature":"<hex>"}` split into the exact text of
 * `<value>` and the signature. Anything else is refused rather than guessed at.
 */
function signedMember(text: string, key: string): { value: string; signature: string } {
  const body = text.trim();
  const head = `{"${key}":`;
  const tail = /,"signature":"([0-9a-fA-F]{128})"\}$/.exec(body);
  if (!body.startsWith(head) || tail === null) {
    throw new Error(`A PCS ${key} document is not in the compact form PCS serves.`);
  }
  const value = body.slice(head.length, tail.index);
  JSON.parse(value);
  return { value, signature: (tail[1] as string).toLowerCase() };
}

function read(path: string): Uint8Array {
  return new Uint8Array(readFileSync(TESTVECTORS + path));
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}
