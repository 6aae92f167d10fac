import {
  SIMULATED_ALG,
  SIMULATED_FORMAT,
  SIMULATED_JWS_TYPE,
  type SimulatedReport,
  toHex,
  utf8,
} from "@cloister/core";
import { CompactSign } from "jose";
import { cloisterConfigDir } from "./config-dir.js";
import { TeeError } from "./errors.js";
import type { EvidenceProvider } from "./provider.js";
import { requireReportData } from "./report-data.js";
import { loadOrCreateSimulatedRoot, type SimulatedRoot } from "./simulated-root.js";

export interface SimulatedProviderOptions {
  /** Where the simulated root lives; defaults to the user's Cloister config directory. */
  readonly configDir?: string;
  /** SHA-384 over the workload's code and configuration digests: 96 hex characters. */
  readonly measurement: string;
}

export interface SimulatedProvider extends EvidenceProvider {
  readonly platform: "simulated";
  /** The root whose public key (`root.pemPath`) relying parties must pin to accept this evidence. */
  readonly root: SimulatedRoot;
}

const MEASUREMENT = /^[0-9a-f]{96}$/;

/**
 * Evidence with the shape of a hardware TEE's and none of its guarantees: a JWS signed by a key
 * on this machine. For development only; every default policy refuses it.
 */
export async function simulatedProvider(
  options: SimulatedProviderOptions,
): Promise<SimulatedProvider> {
  const measurement = options.measurement.toLowerCase();
  if (!MEASUREMENT.test(measurement)) {
    throw new TeeError(
      "tee.measurement",
      "The simulated measurement must be a SHA-384 digest: 96 hex characters.",
    );
  }
  const root = await loadOrCreateSimulatedRoot(options.configDir ?? cloisterConfigDir());
  return {
    platform: "simulated",
    description: `simulated TEE, INSECURE: no hardware protects it (root ${root.id} in ${root.configDir})`,
    root,
    async getEvidence(reportData) {
      const report: SimulatedReport = {
        v: 1,
        platform: "simulated",
        measurement,
        report_data: toHex(requireReportData(reportData)),
        debug: false,
        instance_id: root.instanceId,
        iat: Math.floor(Date.now() / 1000),
      };
      const jws = await new CompactSign(utf8(JSON.stringify(report)))
        .setProtectedHeader({ alg: SIMULATED_ALG, typ: SIMULATED_JWS_TYPE, kid: root.id })
        .sign(root.privateKey);
      return {
        evidence: { platform: "simulated", format: SIMULATED_FORMAT, data: utf8(jws) },
        collateral: {},
      };
    },
  };
}
