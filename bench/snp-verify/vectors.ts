/**
 * The real SEV-SNP reports the benchmark verifies, read from testvectors/index.json: every entry
 * that pairs one report with the VCEK or VLEK that signed it. Real reports matter because the
 * cost of a verification depends on nothing synthetic would reproduce faithfully: AMD's RSA-4096
 * PSS certificate signatures, the VCEK's extensions, the P-384 report signature.
 */

import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  TESTVECTORS,
  VECTOR_INDEX,
  type VectorEntry,
} from "../../packages/core/test/support/testvectors.js";

export type Product = "Milan" | "Genoa" | "Turin";

export interface SnpVector {
  readonly id: string;
  readonly product: Product;
  readonly kind: "vcek" | "vlek";
  /** The 1184-byte ATTESTATION_REPORT. */
  readonly report: Uint8Array;
  /** The VCEK or VLEK, DER. */
  readonly signer: Uint8Array;
  /** AMD's ASK (ASVK for a VLEK) and ARK, DER, as the vector's own files hold them. */
  readonly intermediate: Uint8Array;
  readonly ark: Uint8Array;
  /** When to verify: the time the index's `verify_at` names, else a day after the signer's issue. */
  readonly verifyAt: Date;
}

/** Azure's HCL report carries the SNP report at byte 0x20. */
const HCL_REPORT_OFFSET = 0x20;
const REPORT_SIZE = 1184;
const DAY_MS = 86_400_000;

export function loadVectors(): SnpVector[] {
  return VECTOR_INDEX.flatMap((entry) => {
    if (entry.tee?.startsWith("sev-snp") !== true) return [];
    const report = reportOf(entry);
    const signerFile = entry.files.vcek ?? entry.files["vcek (derived)"] ?? entry.files.vlek;
    const signerBundle = entry.files.vcek_ask_ark;
    if (report === undefined || (signerFile === undefined && signerBundle === undefined)) return [];
    // azure-vtpm-milan ships VCEK, ASK and ARK in one PEM; the others name their chain files.
    const own = derBlocks(signerFile ?? (signerBundle as string));
    const chainFiles = ["ask_ark", "asvk_ark", "ask", "ark"].flatMap((k) => entry.files[k] ?? []);
    const chain = [...own.slice(1), ...chainFiles.flatMap(derBlocks)];
    const signer = own[0] as Uint8Array;
    const kind = "vlek" in entry.files ? "vlek" : "vcek";
    const role = kind === "vlek" ? "SEV-VLEK" : "SEV";
    const byCn = (cn: string) =>
      chain.find((der) => new X509Certificate(der).subject.split("\n").includes(`CN=${cn}`));
    const product = productOf(new X509Certificate(signer));
    const intermediate = byCn(`${role}-${product}`);
    const ark = byCn(`ARK-${product}`);
    if (intermediate === undefined || ark === undefined) {
      throw new Error(`${entry.id}: its files hold no ${role}-${product} or ARK-${product}.`);
    }
    return [
      {
        id: entry.id,
        product,
        kind,
        report,
        signer,
        intermediate,
        ark,
        verifyAt: verifyAt(entry, new X509Certificate(signer)),
      },
    ];
  });
}

function reportOf(entry: VectorEntry): Uint8Array | undefined {
  const f = entry.files;
  const path = f.report ?? f["report (derived)"];
  if (path !== undefined) return read(path);
  if (f.report_hex !== undefined) {
    return new Uint8Array(
      Buffer.from(readFileSync(TESTVECTORS + f.report_hex, "utf8").trim(), "hex"),
    );
  }
  if (f.hcl_report !== undefined) return hclSlice(read(f.hcl_report));
  // azure-vtpm-genoa: {report: [bytes of the HCL report], ...}
  if (f.evidence !== undefined && entry.tee === "sev-snp (Azure vTPM)") {
    const json = JSON.parse(readFileSync(TESTVECTORS + f.evidence, "utf8")) as {
      report?: number[];
    };
    return json.report === undefined ? undefined : hclSlice(new Uint8Array(json.report));
  }
  return undefined;
}

function hclSlice(hcl: Uint8Array): Uint8Array {
  return hcl.slice(HCL_REPORT_OFFSET, HCL_REPORT_OFFSET + REPORT_SIZE);
}

function read(path: string): Uint8Array {
  return new Uint8Array(readFileSync(TESTVECTORS + path));
}

/** A file as DER certificates: one DER file, or every CERTIFICATE block of a PEM file. */
function derBlocks(path: string): Uint8Array[] {
  const bytes = read(path);
  if (bytes[0] === 0x30) return [bytes];
  const text = new TextDecoder().decode(bytes);
  const blocks = [...text.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)];
  return blocks.map(
    (m) => new Uint8Array(Buffer.from((m[1] as string).replace(/\s+/g, ""), "base64")),
  );
}

function productOf(signer: X509Certificate): Product {
  // AMD names the product in the signer's issuer, e.g. CN=SEV-Milan or CN=SEV-VLEK-Genoa.
  const match = /CN=SEV-(?:VLEK-)?(Milan|Genoa|Turin)\b/.exec(signer.issuer);
  if (match === null) throw new Error(`No AMD product in the issuer ${signer.issuer}.`);
  return match[1] as Product;
}

/** The first timestamp the index names when the signer is valid then, else a day after issue. */
function verifyAt(entry: VectorEntry, signer: X509Certificate): Date {
  const from = Date.parse(signer.validFrom);
  const to = Date.parse(signer.validTo);
  const named = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/.exec(entry.verify_at)?.[0];
  const time = named === undefined ? Number.NaN : Date.parse(named);
  return new Date(time >= from && time <= to ? time : from + DAY_MS);
}
