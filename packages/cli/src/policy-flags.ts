import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CloisterError, DEFAULT_POLICY, type Policy, parsePolicy } from "@cloister/core";
import { readSimulatedRoot, SIMULATED_ROOT_FILES } from "@cloister/server/tee";
import { Option } from "@commander-js/extra-typings";

/** Flags every verifying command shares (chat, attest, proxy). */
export const policyOptions = [
  new Option(
    "--policy <file>",
    "a JSON policy file (platforms, measurements, hardwareIds, allowDebug, workload pins, snp rules)",
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
  new Option("--no-local-root", "do not trust this machine's own simulated root automatically"),
] as const;

export interface PolicyFlags {
  readonly policy?: string;
  readonly allowSimulated?: string[];
  readonly measurement?: string[];
  readonly modelDigest?: string[];
  readonly localRoot?: boolean;
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
    ...(flags.modelDigest === undefined
      ? {}
      : { workload: { ...base.workload, modelDigests: flags.modelDigest } }),
  };
}

async function ownRoot(configDir: string): Promise<JsonWebKey | undefined> {
  try {
    return await readSimulatedRoot(join(configDir, SIMULATED_ROOT_FILES.publicJwk));
  } catch {
    return undefined;
  }
}

async function readPolicyFile(path: string): Promise<Policy> {
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
