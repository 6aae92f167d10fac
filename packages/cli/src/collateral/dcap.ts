import { join } from "node:path";
import {
  CloisterError,
  type Collateral,
  type CollateralParts,
  collateralFromParts,
  DCAP_COLLATERAL,
  dcapPlatformId,
  type Evidence,
  encodeCollateralBundle,
  parseCollateralBundle,
} from "@cloister/core";
import { readInput } from "../evidence-files.js";
import { fetchDcapCollateral } from "./intel-pcs.js";

/** The TDX/SGX collateral flags of `cloister attest verify`. */
export interface DcapFileFlags {
  readonly collateral?: string;
  readonly tcbInfo?: string;
  readonly qeIdentity?: string;
  readonly tcbSigningChain?: string;
  readonly pckCrl?: string;
  readonly rootCrl?: string;
  readonly ccel?: string;
  readonly ccelTable?: string;
}

/**
 * Intel collateral from files: a bundle (Cloister's or dcap-qvl's JSON), individual PCS files, or
 * both (a file then replaces the bundle's member). Each is checked when read, so a wrong file is
 * named here rather than failing verification obscurely.
 */
export async function dcapCollateralFiles(flags: DcapFileFlags): Promise<Collateral> {
  const collateral: Record<string, Uint8Array | string> = {};
  const base =
    flags.collateral === undefined
      ? undefined
      : parseCollateralBundle(await readInput(flags.collateral, "collateral"));
  const parts: Record<string, Uint8Array> = {};
  const files: [keyof CollateralParts, string | undefined, string][] = [
    ["tcbInfo", flags.tcbInfo, "TCB info"],
    ["qeIdentity", flags.qeIdentity, "QE identity"],
    ["tcbSigningChain", flags.tcbSigningChain, "TCB signing chain"],
    ["pckCrl", flags.pckCrl, "PCK CRL"],
    ["rootCrl", flags.rootCrl, "root CA CRL"],
  ];
  for (const [member, path, what] of files) {
    if (path !== undefined) parts[member] = await readInput(path, what);
  }
  if (base !== undefined || Object.keys(parts).length > 0) {
    collateral[DCAP_COLLATERAL.bundle] = encodeCollateralBundle(collateralFromParts(parts, base));
  }
  if (flags.ccel !== undefined) {
    collateral[DCAP_COLLATERAL.ccelData] = await readInput(flags.ccel, "CCEL event log");
  }
  if (flags.ccelTable !== undefined) {
    collateral[DCAP_COLLATERAL.ccelTable] = await readInput(flags.ccelTable, "CCEL table");
  }
  return collateral;
}

export interface IntelFetchOptions {
  /** The Cloister home; the PCS cache lives under cache/intel-pcs in it. */
  readonly cacheDir: string;
  readonly refresh: boolean;
  /** A PCCS (or PCS mirror) instead of Intel PCS. */
  readonly pccs?: string;
  readonly log: (line: string) => void;
}

/** TCB info, QE identity and CRLs for a TDX or SGX quote, from Intel PCS or a PCCS (cached). */
export async function fetchIntelCollateral(
  evidence: Evidence,
  options: IntelFetchOptions,
): Promise<Collateral> {
  if (evidence.platform !== "tdx" && evidence.platform !== "sgx") {
    throw new CloisterError(
      "collateral.unsupported",
      `--fetch-collateral has no collateral source for ${evidence.platform} evidence.`,
    );
  }
  const id = dcapPlatformId(evidence.data);
  const bundle = await fetchDcapCollateral(
    { tee: id.tee, fmspc: id.fmspc, ca: id.pckCa },
    {
      cacheDir: join(options.cacheDir, "cache", "intel-pcs"),
      refresh: options.refresh,
      ...(options.pccs === undefined ? {} : { baseUrl: options.pccs, pccs: true }),
      onRequest: (url) => options.log(`fetching ${url}`),
    },
  );
  return { [DCAP_COLLATERAL.bundle]: bundle };
}
