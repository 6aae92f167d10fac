import type { GpuResult } from "./nvidia/composite.js";

/**
 * The shapes every platform shares. Trust flows one way: Evidence (bytes, untrusted) ->
 * Claims (only after the platform's verifier has checked signatures to a pinned root) ->
 * AttestationResult (after appraisal against a Policy).
 */

/** TEE platforms Cloister knows. `simulated` exists for development and is never trusted by default. */
export type Platform = "sev-snp" | "tdx" | "sgx" | "cca" | "psa" | "nvidia" | "simulated";

export const PLATFORMS: readonly Platform[] = [
  "sev-snp",
  "tdx",
  "sgx",
  "cca",
  "psa",
  "nvidia",
  "simulated",
];

/** Hardware-backed platforms a default policy accepts. */
export const HARDWARE_PLATFORMS: readonly Platform[] = ["sev-snp", "tdx", "sgx", "cca"];

/** Evidence as produced by a TEE: opaque, unverified bytes plus what they claim to be. */
export interface Evidence {
  readonly platform: Platform;
  /** Platform-specific encoding, e.g. "simulated-jws" or "snp-report". */
  readonly format: string;
  readonly data: Uint8Array;
}

/**
 * Supporting material the verifier needs besides the evidence (certificate chains, CRLs, TCB info).
 * Keys are platform-specific names; values are the bytes or text the vendor serves.
 */
export type Collateral = Readonly<Record<string, Uint8Array | string>>;

/** Normalised claims, produced only by a platform verifier after authenticity checks passed. */
export interface Claims {
  readonly platform: Platform;
  /** The launch measurement of the workload, lower-case hex. */
  readonly measurement: string;
  /** The 64 bytes the workload bound into its evidence. */
  readonly reportData: Uint8Array;
  /** True when the TEE runs with debug access (its memory is readable by the host). */
  readonly debug: boolean;
  /** A stable identity of the hardware (chip ID, instance ID), lower-case hex, when the platform has one. */
  readonly hardwareId?: string;
  /** When the evidence was produced, if it says. */
  readonly issuedAt?: Date;
  /** Which pinned trust anchor the evidence chains to (name and SHA-256 fingerprint). */
  readonly trustAnchor: { readonly name: string; readonly fingerprint: string };
  /** Platform-specific claims, for display and for platform appraisal rules. */
  readonly platformClaims: Readonly<Record<string, unknown>>;
}

/** Outcome of one check. `skip` means the check did not apply (e.g. nothing pinned). */
export type CheckStatus = "pass" | "warn" | "fail" | "skip";

/** One line of the per-check verdict that `cloister attest` prints. */
export interface Check {
  /** Stable reason code, e.g. "evidence.signature", "policy.platform", "binding.report_data". */
  readonly code: string;
  readonly status: CheckStatus;
  /** One human sentence saying what was checked and what was found. */
  readonly message: string;
}

/** In the spirit of IETF RATS EAR (draft-ietf-rats-ear): the trustworthiness tier of the workload. */
export type Verdict = "affirming" | "warning" | "contraindicated";

export interface AttestationResult {
  readonly verdict: Verdict;
  readonly platform: Platform;
  /** True when the evidence came from the simulated TEE: nothing about it is hardware-backed. */
  readonly insecure: boolean;
  /** Every check run, in order. */
  readonly checks: readonly Check[];
  /** Present only when authenticity verification succeeded. */
  readonly claims?: Claims;
  /** The workload's GPUs, each verified after the CPU TEE and bound to it. */
  readonly gpus?: readonly GpuResult[];
}

/** Inputs a verifier needs. A verifier never reads the clock, the network or the disk itself. */
export interface VerifyContext {
  readonly now: Date;
  readonly collateral: Collateral;
  /** Simulated roots the caller pinned (public JWKs). Empty: simulated evidence cannot verify. */
  readonly simulatedRoots: readonly JsonWebKey[];
}
