import type { Collateral, Evidence, Platform } from "@cloister/core";

/**
 * Where evidence comes from inside the TEE. `getEvidence` asks the hardware (or the simulator)
 * for fresh evidence over exactly 64 bytes of report data.
 */
export interface EvidenceProvider {
  readonly platform: Platform;
  /** Human description for `cloister doctor` and logs, e.g. "configfs-tsm (sev_guest)". */
  readonly description: string;
  getEvidence(reportData: Uint8Array): Promise<ProducedEvidence>;
}

export interface ProducedEvidence {
  readonly evidence: Evidence;
  /** Collateral the workload has at hand (e.g. the VCEK chain from the extended report). */
  readonly collateral: Collateral;
}
