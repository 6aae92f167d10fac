import { attest, verdictOf } from "../attest/appraise.js";
import { fail, pass, short, skip } from "../attest/checks.js";
import { verifyGpuSet } from "../attest/nvidia/composite.js";
import type { RimVerifier } from "../attest/nvidia/rim/types.js";
import type { Policy, WorkloadPins } from "../attest/policy.js";
import type { AttestationResult, Check, Collateral } from "../attest/types.js";
import { equalBytes, toHex } from "../bytes.js";
import { CloisterError } from "../errors.js";
import { manifestReportData } from "./binding.js";
import type { AttestationBundle } from "./bundle.js";
import { parseManifest, type WorkloadManifest } from "./manifest.js";

export interface WorkloadVerification {
  readonly result: AttestationResult;
  /** Present only when the manifest parsed; trust it only when the verdict is not contraindicated. */
  readonly manifest?: WorkloadManifest;
}

export interface VerifyWorkloadOptions {
  readonly now: Date;
  /** The nonce the caller sent, if any: the evidence must have been produced for it. */
  readonly nonce?: Uint8Array;
  /**
   * Collateral the caller brings: trust anchors the workload cannot supply for itself (Arm CCA
   * platform keys) or fresher vendor collateral. It takes precedence over the workload's.
   */
  readonly collateral?: Collateral;
  /** Checks NVIDIA RIM signatures; without one, GPU measurements are not compared with RIMs. */
  readonly rimVerifier?: RimVerifier;
}

/**
 * The whole check a caller runs before sending a byte: evidence (parse -> verify -> appraise),
 * then the binding of the manifest into the evidence's report data, then the policy's pins on
 * the manifest. Only a manifest that passed all three may be used for its keys.
 */
export async function verifyWorkload(
  bundle: AttestationBundle,
  policy: Policy,
  options: VerifyWorkloadOptions,
): Promise<WorkloadVerification> {
  const preChecks: Check[] = [];
  if (options.nonce !== undefined) {
    preChecks.push(
      bundle.nonce !== undefined && equalBytes(bundle.nonce, options.nonce)
        ? pass("binding.nonce", "The evidence was produced for this caller's nonce.")
        : fail(
            "binding.nonce",
            `The evidence was not produced for this caller's nonce ${short(toHex(options.nonce))}.`,
          ),
    );
  }
  let manifest: WorkloadManifest | undefined;
  try {
    manifest = parseManifest(bundle.manifest);
    preChecks.push(pass("manifest.parse", "The workload manifest is well-formed."));
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
    preChecks.push(fail(error.code, error.message));
  }
  const collateral = { ...bundle.collateral, ...options.collateral };
  const expectedReportData = await manifestReportData(bundle.manifest, options.nonce, bundle.gpus);
  const attested = await attest(bundle.evidence, policy, {
    now: options.now,
    collateral,
    expectedReportData,
    ...(bundle.gpus === undefined ? {} : { binds: "the workload manifest and its GPUs" }),
  });
  const gpus = await verifyGpuSet(bundle.gpus, {
    manifest: bundle.manifest,
    now: options.now,
    collateral,
    ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
    ...(policy.nvidia === undefined ? {} : { policy: policy.nvidia }),
    ...(options.rimVerifier === undefined ? {} : { rimVerifier: options.rimVerifier }),
  });
  const checks = [...preChecks, ...attested.checks, ...gpus.checks];
  if (manifest !== undefined) checks.push(...appraiseManifest(manifest, policy.workload ?? {}));
  const result: AttestationResult = {
    ...attested,
    checks,
    verdict: verdictOf(checks),
    ...(gpus.results.length === 0 ? {} : { gpus: gpus.results }),
  };
  return manifest === undefined ? { result } : { result, manifest };
}

/** The policy's pins on what the workload runs: code, configuration, models. */
export function appraiseManifest(manifest: WorkloadManifest, pins: WorkloadPins): Check[] {
  const checks: Check[] = [
    pinCheck("policy.code_digest", "code digest", manifest.code, pins.codeDigests),
    pinCheck("policy.config_digest", "configuration digest", manifest.config, pins.configDigests),
  ];
  const allowed = pins.modelDigests;
  if (allowed === undefined || allowed.length === 0) {
    checks.push(skip("policy.model_digest", "The policy pins no model digest."));
  } else {
    for (const model of manifest.models) {
      checks.push(
        allowed.includes(model.digest)
          ? pass(
              "policy.model_digest",
              `Model ${model.id} has the pinned digest ${short(model.digest)}.`,
            )
          : fail(
              "policy.model_digest",
              `Model ${model.id} has digest ${short(model.digest)}, which the policy does not pin.`,
            ),
      );
    }
  }
  const signers = pins.modelSigners;
  if (signers === undefined || signers.length === 0) {
    checks.push(skip("policy.model_signer", "The policy pins no model signer."));
  } else {
    for (const model of manifest.models) {
      checks.push(
        model.signer !== undefined && signers.includes(model.signer)
          ? pass("policy.model_signer", `Model ${model.id} was signed by ${model.signer}.`)
          : fail(
              "policy.model_signer",
              model.signer === undefined
                ? `Model ${model.id} is not signed, and the policy requires a pinned signer.`
                : `Model ${model.id} was signed by ${model.signer}, which the policy does not pin.`,
            ),
      );
    }
  }
  return checks;
}

function pinCheck(
  code: string,
  what: string,
  value: string,
  allowed: readonly string[] | undefined,
): Check {
  if (allowed === undefined || allowed.length === 0)
    return skip(code, `The policy pins no ${what}.`);
  return allowed.includes(value)
    ? pass(code, `The workload's ${what} ${short(value)} is pinned by the policy.`)
    : fail(code, `The workload's ${what} ${short(value)} is not one the policy allows.`);
}
