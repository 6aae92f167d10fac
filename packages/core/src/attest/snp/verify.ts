import { asBufferSource, concat, equalBytes, sha256, toHex, utf8 } from "../../bytes.js";
import { ParseError } from "../../errors.js";
import { pass } from "../checks.js";
import { parseOnce } from "../parse-once.js";
import { certificateDers, parseDer } from "../pki/certificates.js";
import type { X509Certificate } from "../pki/x509.js";
import type { Check, Claims, Collateral, Evidence, VerifyContext } from "../types.js";
import { type PlatformVerifier, VerificationError, type VerifiedEvidence } from "../verifier.js";
import { parseCertTable } from "./abi/cert-table.js";
import { parseReport } from "./abi/report.js";
import { decodeTcb, formatTcb } from "./abi/tcb.js";
import type { SnpProduct, SnpReport, TcbLayout, TcbVersion } from "./abi/types.js";
import { appraiseSnp } from "./appraise.js";
import { verifyAzureBinding } from "./azure/binding.js";
import { parseAzureEvidence } from "./azure/evidence.js";
import { type ChainVerification, verifySigningChain } from "./chain.js";
import { snpClaims } from "./claims.js";
import { checkRevocation, parseCrl } from "./crl.js";
import { AZURE_SNP_VTPM_FORMAT, SNP_COLLATERAL, SNP_REPORT_FORMAT } from "./formats.js";
import { pinnedByDer } from "./roots.js";
import { readSigningCert, type SigningCertInfo, signingKindOf } from "./vcek.js";

/** parse -> verify for SEV-SNP: report signature, VCEK/VLEK chain to a pinned ARK, TCB and chip binding. */
export const snpVerifier: PlatformVerifier = {
  platform: "sev-snp",
  async verify(evidence: Evidence, context: VerifyContext): Promise<VerifiedEvidence> {
    switch (evidence.format) {
      case SNP_REPORT_FORMAT:
        return verifySnpReport(evidence.data, context);
      case AZURE_SNP_VTPM_FORMAT:
        return verifyAzure(evidence.data, context);
      default:
        throw new ParseError(
          "snp.format",
          "format",
          `SEV-SNP evidence must be "${SNP_REPORT_FORMAT}" or "${AZURE_SNP_VTPM_FORMAT}", not ${JSON.stringify(evidence.format.slice(0, 40))}.`,
        );
    }
  },
  appraise: appraiseSnp,
};

async function verifySnpReport(
  bytes: Uint8Array,
  context: VerifyContext,
): Promise<VerifiedEvidence> {
  const report = parseReport(bytes);
  const verified = await verifyParsedReport(report, context.collateral, [], context.now);
  return { claims: verified.claims(report.reportData), checks: verified.checks };
}

async function verifyAzure(bytes: Uint8Array, context: VerifyContext): Promise<VerifiedEvidence> {
  const azure = parseAzureEvidence(bytes);
  const report = parseReport(azure.hcl.reportBytes);
  const extra = azure.vcek === undefined ? [] : [azure.vcek];
  const verified = await verifyParsedReport(report, context.collateral, extra, context.now);
  const binding = await verifyAzureBinding(azure, report.reportData);
  // On Azure the guest cannot choose REPORT_DATA (the paravisor fills it with the hash of its
  // runtime data); the caller's nonce travels in the vTPM quote, bound through the AK.
  return {
    claims: verified.claims(
      binding.nonce === undefined ? report.reportData : padded(binding.nonce),
    ),
    checks: [...verified.checks, ...binding.checks],
  };
}

/** TPM qualifying data is at most 64 bytes; zero-padded it reads like any other report data. */
function padded(nonce: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(Math.max(64, nonce.length));
  bytes.set(nonce);
  return bytes;
}

interface VerifiedReport {
  readonly checks: readonly Check[];
  claims(reportData: Uint8Array): Claims;
}

async function verifyParsedReport(
  report: SnpReport,
  collateral: Collateral,
  extraCertificates: readonly (Uint8Array | string)[],
  now: Date,
): Promise<VerifiedReport> {
  if (report.keyInfo.signingKey === "none") {
    throw new VerificationError(
      "snp.report.unsigned",
      "The report says no key signed it (SIGNING_KEY = none), so nothing vouches for it.",
    );
  }
  const signer = await signingChain(
    report,
    report.keyInfo.signingKey,
    collateral,
    extraCertificates,
    now,
  );
  const checks: Check[] = [...signer.chain.checks];
  const signature = concat([report.signature.r, report.signature.s]);
  const valid = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-384" },
    signer.key,
    asBufferSource(signature),
    asBufferSource(report.signedBytes),
  );
  if (!valid) {
    throw new VerificationError(
      "snp.report.signature",
      `The report's ECDSA P-384 signature does not verify with the ${signer.info.kind.toUpperCase()}'s key: the report was altered or signed by another chip.`,
    );
  }
  checks.push(
    pass(
      "snp.report.signature",
      `The report is signed by the ${signer.info.kind.toUpperCase()} (ECDSA P-384, SHA-384).`,
    ),
  );
  const product = signer.chain.product;
  if (report.product !== undefined && report.product !== product) {
    throw new VerificationError(
      "snp.report.product",
      `The report's CPUID says AMD ${report.product} but it is signed by an AMD ${product} key.`,
    );
  }
  // A v2 report carries no CPUID: the signing certificate decides which TCB layout applies.
  const layout = layoutOf(product);
  const tcbs = {
    current: relayout(report.currentTcb, layout),
    reported: relayout(report.reportedTcb, layout),
    committed: relayout(report.committedTcb, layout),
    launch: relayout(report.launchTcb, layout),
  };
  checks.push(tcbBinding(signer.info, tcbs.reported));
  if (signer.info.kind === "vcek") checks.push(chipBinding(signer.info, report, product));
  const revocation = await revocationCheck(collateral, product, signer.info.kind, now);
  checks.push(revocation);
  const identity = {
    product,
    productName: signer.info.productName,
    signingKey: signer.info.kind,
    ...(signer.info.cspId === undefined ? {} : { cspId: signer.info.cspId }),
    anchor: signer.chain.anchor,
    revocation: revocation.status === "pass" ? ("checked" as const) : ("unknown" as const),
  };
  return { checks, claims: (reportData) => snpClaims(report, tcbs, identity, reportData) };
}

/** Turin (family 1Ah) adds the FMC and moves the fields; Milan and Genoa share a layout. */
function layoutOf(product: SnpProduct | undefined): TcbLayout {
  return product === "Turin" ? "turin" : "milan-genoa";
}

function relayout(tcb: TcbVersion, layout: TcbLayout): TcbVersion {
  return decodeTcb(tcb.raw, layout);
}

/** The VCEK is issued for one TCB: a report claiming another was not signed under it. */
function tcbBinding(info: SigningCertInfo, reported: TcbVersion): Check {
  const parts = ["bootloader", "tee", "snp", "microcode", "fmc"] as const;
  for (const part of parts) {
    const certified = info.tcb[part];
    if (certified === undefined && reported[part] === undefined) continue;
    if (certified !== reported[part]) {
      throw new VerificationError(
        "snp.vcek.tcb_mismatch",
        `The report's REPORTED_TCB (${formatTcb(reported)}) differs from the TCB its ${info.kind.toUpperCase()} was issued for (${part} ${certified ?? "absent"}).`,
      );
    }
  }
  return pass(
    "snp.vcek.tcb",
    `The REPORTED_TCB (${formatTcb(reported)}) equals the TCB in the ${info.kind.toUpperCase()}.`,
  );
}

function chipBinding(info: SigningCertInfo, report: SnpReport, product: SnpProduct): Check {
  if (report.keyInfo.maskChipKey) {
    return pass(
      "snp.vcek.chip_id",
      "The guest masked its chip ID (MASK_CHIP_KEY); there is none to compare.",
    );
  }
  // Turin VCEKs carry an 8-byte hwID: the first 8 bytes of the 64-byte CHIP_ID.
  const chipId = product === "Turin" ? report.chipId.subarray(0, 8) : report.chipId;
  if (info.hwid === undefined || !equalBytes(info.hwid, chipId)) {
    throw new VerificationError(
      "snp.vcek.chip_id_mismatch",
      `The report's CHIP_ID ${toHex(report.chipId).slice(0, 16)}… is not the chip the VCEK was issued to.`,
    );
  }
  return pass(
    "snp.vcek.chip_id",
    `The CHIP_ID ${toHex(chipId).slice(0, 16)}… equals the VCEK's hwID.`,
  );
}

/** AMD's CRL is signed by the ARK and lists revoked ASKs/ASVKs; each distinct CRL is parsed once. */
async function revocationCheck(
  collateral: Collateral,
  product: SnpProduct,
  kind: "vcek" | "vlek",
  now: Date,
): Promise<Check> {
  const input = collateral[SNP_COLLATERAL.crl];
  return checkRevocation(input === undefined ? undefined : parseCrlOnce(input), product, kind, now);
}

const parseCrlOnce = parseOnce(parseCrl);

interface SigningChain {
  readonly certificate: X509Certificate;
  readonly info: SigningCertInfo;
  readonly chain: ChainVerification;
  readonly key: CryptoKey;
}

/**
 * Chains are verified once per distinct certificate collateral and kept: the ASK/ARK are pinned,
 * so the result depends only on those bytes, except for validity, which is checked again at each
 * `now`. This is what makes a warm verification one ECDSA check.
 */
const chainCache = new Map<string, Promise<SigningChain>>();
const CACHE_LIMIT = 256;

async function signingChain(
  report: SnpReport,
  kind: "vcek" | "vlek",
  collateral: Collateral,
  extra: readonly (Uint8Array | string)[],
  now: Date,
): Promise<SigningChain> {
  const inputs = certificateInputs(collateral, extra);
  const digest = toHex(await sha256(concat(inputs.map(({ bytes }) => bytes))));
  // Which certificate signs depends on the chip and TCB when several are supplied.
  const key = `${kind}:${report.reportedTcb.raw}:${toHex(report.chipId)}:${digest}`;
  let entry = chainCache.get(key);
  if (entry === undefined) {
    entry = buildChain(report, kind, inputs, now);
    if (chainCache.size >= CACHE_LIMIT) chainCache.clear();
    chainCache.set(key, entry);
    // Failures are not cached: the same collateral may verify at another `now`.
    entry.catch(() => chainCache.delete(key));
    return entry;
  }
  const cached = await entry;
  cached.chain.checkValidity(now);
  return cached;
}

interface CertificateInput {
  readonly source: string;
  readonly bytes: Uint8Array;
  readonly value: Uint8Array | string;
}

function certificateInputs(
  collateral: Collateral,
  extra: readonly (Uint8Array | string)[],
): CertificateInput[] {
  const inputs: CertificateInput[] = [];
  const add = (source: string, value: Uint8Array | string) =>
    inputs.push({ source, value, bytes: typeof value === "string" ? utf8(value) : value });
  const table = collateral[SNP_COLLATERAL.certTable];
  if (table !== undefined) add(SNP_COLLATERAL.certTable, table);
  const certificates = collateral[SNP_COLLATERAL.certificates];
  if (certificates !== undefined) add(SNP_COLLATERAL.certificates, certificates);
  for (const value of extra) add("evidence", value);
  return inputs;
}

async function buildChain(
  report: SnpReport,
  kind: "vcek" | "vlek",
  inputs: readonly CertificateInput[],
  now: Date,
): Promise<SigningChain> {
  const certificates: X509Certificate[] = [];
  const add = (value: Uint8Array | string, source: string) => {
    for (const { der, name } of certificateDers(value, source)) {
      // The ASK and ARK usually come along; their pinned copies are already parsed.
      certificates.push(pinnedByDer(der) ?? parseDer(der, name));
    }
  };
  for (const input of inputs) {
    if (input.source === SNP_COLLATERAL.certTable) {
      const table = typeof input.value === "string" ? utf8(input.value) : input.value;
      for (const entry of parseCertTable(table)) {
        // A table may carry AMD's CRL too; revocation takes it from the `crl` collateral only.
        if (entry.kind !== "crl") add(entry.data, `the certificate table's ${entry.kind} entry`);
      }
    } else {
      add(input.value, input.source);
    }
  }
  const signers = certificates.flatMap((certificate) => {
    const info = readSigningCertIfAny(certificate);
    return info?.kind === kind ? [{ certificate, info }] : [];
  });
  const signer = signers.find(({ info }) => issuedFor(info, report)) ?? signers[0];
  if (signer === undefined) {
    throw new VerificationError(
      "snp.certificate.missing",
      `The report is signed by a ${kind.toUpperCase()}, but none was supplied: give it as collateral (--certs FILE) or fetch it from AMD KDS (--fetch-collateral).`,
    );
  }
  const supplied = certificates.filter((c) => c !== signer.certificate);
  const chain = await verifySigningChain(signer.certificate, signer.info, supplied, now);
  const key = await crypto.subtle.importKey(
    "spki",
    asBufferSource(new Uint8Array(signer.certificate.publicKey.rawData)),
    { name: "ECDSA", namedCurve: "P-384" },
    false,
    ["verify"],
  );
  return { certificate: signer.certificate, info: signer.info, chain, key };
}

/**
 * A directory of certificates may hold VCEKs of several chips or TCBs: the one issued for this
 * report's chip and REPORTED_TCB is the one to try. If none matches, the first is tried, so that
 * the failure names the mismatch.
 */
function issuedFor(info: SigningCertInfo, report: SnpReport): boolean {
  const tcb = decodeTcb(report.reportedTcb.raw, layoutOf(info.product));
  const sameTcb = (["bootloader", "tee", "snp", "microcode", "fmc"] as const).every(
    (part) => info.tcb[part] === tcb[part],
  );
  if (info.kind === "vlek" || info.hwid === undefined) return sameTcb;
  return sameTcb && equalBytes(info.hwid, report.chipId.subarray(0, info.hwid.length));
}

function readSigningCertIfAny(certificate: X509Certificate): SigningCertInfo | undefined {
  return signingKindOf(certificate) === undefined ? undefined : readSigningCert(certificate);
}
