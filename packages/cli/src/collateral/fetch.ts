import type { Collateral, Evidence } from "@cloister/core";
import { fetchIntelCollateral } from "./dcap.js";
import { fetchSnpCollateral } from "./snp.js";

export interface CollateralFetchOptions {
  /** The Cloister home; caches live under cache/ in it. */
  readonly cacheDir: string;
  readonly refresh: boolean;
  /** An AMD KDS mirror, for SEV-SNP. */
  readonly kdsUrl?: string;
  /** A PCCS or Intel PCS mirror, for TDX and SGX. */
  readonly pccs?: string;
  /** Progress lines (stderr in the CLI). */
  readonly log: (line: string) => void;
}

/** What the evidence's vendor serves for it: AMD KDS for SEV-SNP, Intel PCS for TDX and SGX. */
export function fetchCollateral(
  evidence: Evidence,
  collateral: Collateral,
  options: CollateralFetchOptions,
): Promise<Collateral> {
  const common = { cacheDir: options.cacheDir, refresh: options.refresh, log: options.log };
  return evidence.platform === "sev-snp"
    ? fetchSnpCollateral(evidence, collateral, {
        ...common,
        ...(options.kdsUrl === undefined ? {} : { baseUrl: options.kdsUrl }),
      })
    : fetchIntelCollateral(evidence, {
        ...common,
        ...(options.pccs === undefined ? {} : { pccs: options.pccs }),
      });
}
