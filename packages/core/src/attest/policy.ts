import type { CcaPolicy } from "./cca/policy.js";
import type { DcapPolicy, SgxPolicy, TdxPolicy } from "./dcap/policy.js";
import type { NvidiaPolicy } from "./nvidia/policy.js";
import type { PsaPolicy } from "./psa/policy.js";
import type { SnpPolicy } from "./snp/policy.js";
import { HARDWARE_PLATFORMS, type Platform } from "./types.js";

/**
 * What a relying party accepts. Everything absent is "not pinned": the check is reported as
 * skipped or as a warning, never silently passed.
 */
export interface Policy {
  /** Platforms accepted. `simulated` must be listed explicitly and needs a pinned root. */
  readonly platforms: readonly Platform[];
  /** Public keys (JWK) of simulated roots the caller trusts. Only used when `simulated` is allowed. */
  readonly simulatedRoots?: readonly JsonWebKey[];
  /** Allowed launch measurements, lower-case hex. */
  readonly measurements?: readonly string[];
  /** Allowed hardware identities (chip IDs). Pinning them defeats relayed evidence. */
  readonly hardwareIds?: readonly string[];
  /** Debug-enabled TEEs expose their memory to the host; refused unless this is true. */
  readonly allowDebug?: boolean;
  /** Pins on the workload manifest bound into the evidence. */
  readonly workload?: WorkloadPins;
  /** AMD SEV-SNP rules: minimum TCB, host data, ID keys, VMPL, migration agent, SMT. */
  readonly snp?: SnpPolicy;
  /** Intel collateral rules shared by TDX and SGX: accepted TCB statuses, advisories, freshness. */
  readonly dcap?: DcapPolicy;
  /** Intel TDX rules: RTMRs, MRSEAM, MRCONFIGID/MROWNER, XFAM, TD attributes, event log. */
  readonly tdx?: TdxPolicy;
  /** Intel SGX rules: MRSIGNER, ISV product IDs, minimum ISV SVN. */
  readonly sgx?: SgxPolicy;
  /** Arm CCA rules: accepted lifecycle states, reference values (platform firmware, realm RIM/REMs). */
  readonly cca?: CcaPolicy;
  /** Arm PSA rules: lifecycle, implementation and instance IDs, software components. */
  readonly psa?: PsaPolicy;
  /** NVIDIA GPU rules: how many, which models, minimum driver/VBIOS, CC mode, RIMs. */
  readonly nvidia?: NvidiaPolicy;
}

export interface WorkloadPins {
  /** Allowed Cloister code digests ("sha256:<hex>"). */
  readonly codeDigests?: readonly string[];
  /** Allowed configuration digests ("sha256:<hex>"). */
  readonly configDigests?: readonly string[];
  /** Every served model's digest must be one of these ("sha256:<hex>"). */
  readonly modelDigests?: readonly string[];
  /**
   * Every served model must have been signed (and verified before load) by one of these, as the
   * manifest names them: "key sha256:<hex>", "<certificate subject> (anchor sha256:<hex>)" or
   * "<identity> (<issuer>)".
   */
  readonly modelSigners?: readonly string[];
}

/** Secure by default: hardware TEEs only, debug refused, nothing simulated. */
export const DEFAULT_POLICY: Policy = Object.freeze({ platforms: HARDWARE_PLATFORMS });
