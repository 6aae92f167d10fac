import { createHash } from "node:crypto";
import {
  canonicalJson,
  encodeKeyConfigList,
  type GatewayKey,
  MANIFEST_SCHEMA,
  type ManifestModel,
  toBase64Url,
  type WorkloadManifest,
} from "@cloister/core";
import { VERSION } from "../version.js";

export interface ManifestInputs {
  readonly code: string;
  /** The configuration that decides behaviour; hashed canonically into `config`. */
  readonly config: unknown;
  readonly models: readonly ManifestModel[];
  readonly gatewayKeys: readonly GatewayKey[];
  /** Raw Ed25519 public key that signs receipts. */
  readonly receiptPublicKey: Uint8Array;
}

export function buildManifest(inputs: ManifestInputs): WorkloadManifest {
  return {
    schema: MANIFEST_SCHEMA,
    cloister: VERSION,
    code: inputs.code,
    config: configDigest(inputs.config),
    models: inputs.models,
    ohttpKeys: toBase64Url(encodeKeyConfigList(inputs.gatewayKeys.map((k) => k.config))),
    receiptKey: { alg: "Ed25519", publicKey: toBase64Url(inputs.receiptPublicKey) },
  };
}

export function configDigest(config: unknown): string {
  return `sha256:${createHash("sha256").update(canonicalJson(config)).digest("hex")}`;
}

/**
 * The simulated TEE's "launch measurement": SHA-384 over the code and configuration digests,
 * standing in for what real hardware measures at launch.
 */
export function simulatedMeasurement(code: string, config: string): string {
  return createHash("sha384").update(`${code}\n${config}\n`).digest("hex");
}
