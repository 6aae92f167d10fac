import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CloisterError,
  type Collateral,
  DEFAULT_POLICY,
  type Policy,
  parsePolicy,
} from "@cloister/core";
import { readSimulatedRoot, SIMULATED_ROOT_FILES } from "@cloister/server/tee";
import { Option } from "@commander-js/extra-typings";
import { armKeyCollateral } from "./arm-keys.js";
import { readInput } from "./evidence-files.js";

/** Flags every verifying command shares (chat, attest, proxy). */
export const policyOptions = [
  new Option(
    "--policy <file>",
    "a JSON policy file (platforms, measurements, hardwareIds, allowDebug, workload pins, and the snp, dcap, tdx, sgx, cca, psa and nvidia sections)",
  ),
  new Option(
    "--allow-simulated <root.pem>",
    "accept simulated evidence signed by this root (INSECURE; repeatable)",
  ).argParser(collect),
  new Option("--measurement <hex>", "accept only this launch measurement (repeatable)").argParser(
    collect,
  ),
  new Option(
    "--model-digest <sha256:hex>",
    "accept only workloads whose every model has this digest (repeatable)",
  ).argParser(collect),
  new Option(
    "--model-signer <identity>",
    'accept only workloads whose every model was verified before load as signed by this signer, as `cloister attest` shows it, e.g. "key sha256:…" (repeatable)',
  ).argParser(collect),
  new Option("--no-local-root", "do not trust this machine's own simulated root automatically"),
  new Option(
    "--cca-keys <file>",
    "Arm CCA: trust these platform attestation keys (CPAK: PEM, JWK or a veraison trust-anchor JSON; repeatable)",
  ).argParser(collect),
] as const;

export interface PolicyFlags {
  readonly policy?: string;
  readonly allowSimulated?: string[];
  readonly measurement?: string[];
  readonly modelDigest?: string[];
  readonly modelSigner?: string[];
  readonly localRoot?: boolean;
  readonly ccaKeys?: string[];
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * The policy the CLI verifies with: the default (hardware only) or --policy, plus the flags.
 * Developer convenience that does not weaken anything: this machine's own simulated root (the
 * one `cloister serve` created here) is pinned automatically, so a local demo works, and the
 * output says INSECURE. Any other simulated root must be given with --allow-simulated.
 */
export async function resolvePolicy(flags: PolicyFlags, configDir: string): Promise<Policy> {
  const base = flags.policy === undefined ? DEFAULT_POLICY : await readPolicyFile(flags.policy);
  const roots = [...(base.simulatedRoots ?? [])];
  for (const path of flags.allowSimulated ?? []) {
    roots.push(await readSimulatedRoot(path));
  }
  if (flags.localRoot !== false) {
    const own = await ownRoot(configDir);
    if (own !== undefined) roots.push(own);
  }
  const platforms =
    roots.length > 0 && !base.platforms.includes("simulated")
      ? [...base.platforms, "simulated" as const]
      : base.platforms;
  return {
    ...base,
    platforms,
    ...(roots.length > 0 ? { simulatedRoots: roots } : {}),
    ...(flags.measurement === undefined
      ? {}
      : { measurements: flags.measurement.map((m) => m.toLowerCase()) }),
    ...(flags.modelDigest === undefined && flags.modelSigner === undefined
      ? {}
      : {
          workload: {
            ...base.workload,
            ...(flags.modelDigest === undefined ? {} : { modelDigests: flags.modelDigest }),
            ...(flags.modelSigner === undefined ? {} : { modelSigners: flags.modelSigner }),
          },
        }),
  };
}

/** The trust anchors the caller brings for the workload's evidence (--cca-keys). */
export async function callerCollateral(flags: PolicyFlags): Promise<Collateral> {
  if (flags.ccaKeys === undefined) return {};
  const files = await Promise.all(flags.ccaKeys.map((path) => readInput(path, "CCA platform key")));
  return armKeyCollateral("cca", files);
}

async function ownRoot(configDir: string): Promise<JsonWebKey | undefined> {
  try {
    return await readSimulatedRoot(join(configDir, SIMULATED_ROOT_FILES.publicJwk));
  } catch {
    return undefined;
  }
}

export async function readPolicyFile(path: string): Promise<Policy> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new CloisterError("policy.file", `Could not read the policy file ${path} as JSON.`, {
      cause: error,
    });
  }
  try {
    return parsePolicy(value);
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
    throw new CloisterError(error.code, `${path}: ${error.message}`, { cause: error });
  }
}
