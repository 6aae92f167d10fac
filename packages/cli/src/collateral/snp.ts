import { join } from "node:path";
import {
  AZURE_SNP_VTPM_FORMAT,
  CloisterError,
  type Collateral,
  type Evidence,
  parseAzureEvidence,
  parseReport,
  SNP_COLLATERAL,
  type SnpProduct,
  type SnpReport,
} from "@cloister/core";
import {
  fetchCertChain,
  fetchCrl,
  fetchVcek,
  type KdsOptions,
  type KdsRequest,
} from "./amd-kds.js";

export interface FetchOptions {
  /** The Cloister home; the KDS cache lives under cache/amd-kds in it. */
  readonly cacheDir: string;
  readonly refresh: boolean;
  /** An AMD KDS mirror; defaults to AMD's own. */
  readonly baseUrl?: string;
  /** Progress lines (stderr in the CLI). */
  readonly log: (line: string) => void;
}

/**
 * The VCEK, ASK/ARK chain and CRL for an SEV-SNP report, from AMD KDS (cached). Only ever runs
 * because the user asked for it: the verifier itself never goes to the network.
 */
export async function fetchSnpCollateral(
  evidence: Evidence,
  collateral: Collateral,
  options: FetchOptions,
): Promise<Collateral> {
  if (evidence.platform !== "sev-snp") {
    throw new CloisterError(
      "collateral.unsupported",
      `--fetch-collateral knows how to fetch SEV-SNP collateral only, not ${evidence.platform}.`,
    );
  }
  const report = parseReport(
    evidence.format === AZURE_SNP_VTPM_FORMAT
      ? parseAzureEvidence(evidence.data).hcl.reportBytes
      : evidence.data,
  );
  if (report.keyInfo.signingKey !== "vcek") {
    throw new CloisterError(
      "collateral.vlek",
      "The report is signed by a VLEK, which AMD gives only to the cloud provider: get it from the provider (on AWS, from the instance's certificate table) and pass it with --certs.",
    );
  }
  const kds = {
    cacheDir: join(options.cacheDir, "cache", "amd-kds"),
    refresh: options.refresh,
    ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
    onRequest: (url: string) => options.log(`fetching ${url}`),
  };
  // A v2 report carries no CPUID; before Turin there were only Milan and Genoa to try.
  const products: readonly SnpProduct[] =
    report.product === undefined ? ["Milan", "Genoa"] : [report.product];
  let lastError: unknown;
  for (const product of products) {
    try {
      const vcek = await fetchVcek(request(report, product), kds);
      const chain = await fetchCertChain(product, kds);
      const crl = await optionalCrl(product, kds, options.log);
      const existing = collateral[SNP_COLLATERAL.certificates];
      return {
        [SNP_COLLATERAL.certificates]: `${typeof existing === "string" ? existing : ""}${derToPem(vcek)}${chain}`,
        ...(crl === undefined ? {} : { [SNP_COLLATERAL.crl]: crl }),
      };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * Without the CRL the report still verifies, with revocation reported as unknown (and refused
 * by a policy that requires the check), so a CRL the server cannot give is a note, not a failure.
 */
async function optionalCrl(
  product: SnpProduct,
  kds: KdsOptions,
  log: (line: string) => void,
): Promise<Uint8Array | undefined> {
  try {
    return await fetchCrl(product, kds);
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
    log(`could not fetch the ${product} CRL (${error.message}); revocation stays unknown`);
    return undefined;
  }
}

function request(report: SnpReport, product: SnpProduct): KdsRequest {
  const t = report.reportedTcb;
  return {
    product,
    chipId: report.chipId,
    tcb: {
      bootloader: t.bootloader,
      tee: t.tee,
      snp: t.snp,
      microcode: t.microcode,
      ...(t.fmc === undefined ? {} : { fmc: t.fmc }),
    },
  };
}

function derToPem(der: Uint8Array): string {
  const body = Buffer.from(der)
    .toString("base64")
    .replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
}
