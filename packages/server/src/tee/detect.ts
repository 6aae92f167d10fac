import { constants } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { Platform } from "@cloister/core";
import { hasAccess } from "../fs-access.js";
import { cloisterConfigDir } from "./config-dir.js";
import {
  CONFIGFS_TSM_ROOT,
  type ConfigfsFiles,
  type ConfigfsTsmProvider,
  configfsTsmProvider,
} from "./configfs-tsm.js";
import { TeeError } from "./errors.js";
import { GRAMINE_ATTESTATION_ROOT, gramineProvider, readAttestationType } from "./gramine.js";
import { describeGpus, type GpuProbeOptions, type GpuReport } from "./nvidia/detect-gpus.js";
import type { EvidenceProvider } from "./provider.js";
import { simulatedProvider } from "./simulated.js";
import { SIMULATED_ROOT_FILES } from "./simulated-root.js";

export interface TeeProbeOptions {
  /** Defaults to CONFIGFS_TSM_ROOT. */
  readonly configfsRoot?: string;
  /** Defaults to the real file system; tests pass a fake kernel. */
  readonly configfsFiles?: ConfigfsFiles;
  /** Defaults to GRAMINE_ATTESTATION_ROOT. */
  readonly gramineRoot?: string;
  /** Where the simulated root lives; defaults to the user's Cloister config directory. */
  readonly configDir?: string;
  /** Use the simulated TEE even where hardware is available. */
  readonly prefer?: "simulated";
  /** Where describeTeeInterfaces() looks for confidential GPUs and NVIDIA's tools. */
  readonly gpus?: GpuProbeOptions;
}

export interface DetectOptions extends TeeProbeOptions {
  /** The measurement the simulated TEE reports, should it be chosen (96 hex characters). */
  readonly measurement: string;
}

export type TeeInterfaceName = "configfs-tsm" | "gramine" | "simulated";

/** What `cloister doctor` shows: which TEE interfaces exist and which one detect() picks. */
export interface TeeInterfaces {
  readonly configfsTsm: {
    readonly path: string;
    readonly present: boolean;
    readonly writable: boolean;
    /** The kernel's TSM name (e.g. "sev_guest") when it could be read and is supported. */
    readonly tsmProvider?: string;
    readonly platform?: Platform;
    /** Why it is present but unusable. */
    readonly problem?: string;
  };
  readonly gramine: {
    readonly path: string;
    readonly present: boolean;
    readonly attestationType?: string;
    readonly problem?: string;
  };
  /** Other paths that tell what the machine offers. */
  readonly paths: readonly {
    readonly path: string;
    readonly present: boolean;
    readonly meaning: string;
  }[];
  readonly simulated: {
    readonly configDir: string;
    /** Whether a simulated root was already created (describing never creates one). */
    readonly rootExists: boolean;
    /** What relying parties pass to `--allow-simulated`. */
    readonly pemPath: string;
  };
  readonly choice: {
    readonly interface: TeeInterfaceName;
    readonly platform: Platform;
    readonly reason: string;
  };
  /** Sentences on how to enable hardware that seems present but unusable. */
  readonly hints: readonly string[];
  /** Confidential NVIDIA GPUs, their CC mode, and whether their evidence can be collected. */
  readonly gpus: GpuReport;
}

/**
 * The evidence provider for this machine: a hardware TEE when its kernel interface exists and
 * works, else the INSECURE simulated TEE. describeTeeInterfaces() says why.
 */
export async function detect(options: DetectOptions): Promise<EvidenceProvider> {
  const simulated = () =>
    simulatedProvider({ measurement: options.measurement, configDir: options.configDir });
  if (options.prefer === "simulated") return simulated();
  return (await probe(options)).provider ?? simulated();
}

/**
 * Probing opens each interface as detect() would: it makes and removes one configfs-tsm report
 * entry, and never creates a simulated root.
 */
export async function describeTeeInterfaces(options: TeeProbeOptions = {}): Promise<TeeInterfaces> {
  const [{ interfaces }, gpus] = await Promise.all([probe(options), describeGpus(options.gpus)]);
  return { ...interfaces, gpus };
}

const OTHER_PATHS = [
  { path: "/sys/kernel/config", meaning: "configfs is mounted" },
  { path: "/dev/sev-guest", meaning: "an SEV-SNP guest (the older ioctl interface)" },
  { path: "/dev/tdx_guest", meaning: "a TDX guest (the older ioctl interface)" },
  { path: "/dev/sgx_enclave", meaning: "SGX is available to this system" },
  {
    path: "/sys/firmware/acpi/tables/CCEL",
    meaning: "a TD boot event log (CCEL), handed on with TDX quotes for RTMR replay",
  },
] as const;

async function probe(
  options: TeeProbeOptions,
): Promise<{ interfaces: Omit<TeeInterfaces, "gpus">; provider?: EvidenceProvider }> {
  const gramine = await probeGramine(options.gramineRoot ?? GRAMINE_ATTESTATION_ROOT);
  const configfs = await probeConfigfs(
    options.configfsRoot ?? CONFIGFS_TSM_ROOT,
    options.configfsFiles,
  );
  const paths = await Promise.all(
    OTHER_PATHS.map(async (p) => ({ ...p, present: await exists(p.path) })),
  );
  const configDir = options.configDir ?? cloisterConfigDir();
  const simulated = {
    configDir,
    rootExists: await exists(join(configDir, SIMULATED_ROOT_FILES.privateJwk)),
    pemPath: join(configDir, SIMULATED_ROOT_FILES.pem),
  };
  // An enclave is the innermost boundary around the code, so Gramine wins over the VM's TSM.
  let provider: EvidenceProvider | undefined;
  let choice: TeeInterfaces["choice"];
  if (options.prefer === "simulated") {
    choice = {
      interface: "simulated",
      platform: "simulated",
      reason: "The simulated TEE was asked for; its evidence is INSECURE.",
    };
  } else if (gramine.provider !== undefined) {
    provider = gramine.provider;
    choice = {
      interface: "gramine",
      platform: "sgx",
      reason: `Gramine's ${gramine.info.path} offers SGX DCAP quotes.`,
    };
  } else if (configfs.provider !== undefined) {
    provider = configfs.provider;
    choice = {
      interface: "configfs-tsm",
      platform: configfs.provider.platform,
      reason: `configfs-tsm at ${configfs.info.path} offers ${configfs.provider.tsmProvider} evidence.`,
    };
  } else {
    choice = {
      interface: "simulated",
      platform: "simulated",
      reason: `No usable TEE interface (configfs-tsm: ${configfs.info.problem ?? "absent"}; Gramine: ${gramine.info.problem ?? "absent"}), so evidence comes from the INSECURE simulated TEE.`,
    };
  }
  const interfaces: Omit<TeeInterfaces, "gpus"> = {
    configfsTsm: configfs.info,
    gramine: gramine.info,
    paths,
    simulated,
    choice,
    hints: hints(configfs.info.present, gramine.info.present, paths),
  };
  return { interfaces, provider };
}

async function probeConfigfs(
  path: string,
  files: ConfigfsFiles | undefined,
): Promise<{ info: TeeInterfaces["configfsTsm"]; provider?: ConfigfsTsmProvider }> {
  if (!(await isDirectory(path))) return { info: { path, present: false, writable: false } };
  if (!(await hasAccess(path, constants.W_OK))) {
    return {
      info: {
        path,
        present: true,
        writable: false,
        problem: `${path} is not writable by this process; run Cloister as root or grant it write access there`,
      },
    };
  }
  try {
    const provider = await configfsTsmProvider({ root: path, files });
    return {
      info: {
        path,
        present: true,
        writable: true,
        tsmProvider: provider.tsmProvider,
        platform: provider.platform,
      },
      provider,
    };
  } catch (error) {
    if (!(error instanceof TeeError)) throw error;
    return { info: { path, present: true, writable: true, problem: withoutStop(error.message) } };
  }
}

async function probeGramine(
  path: string,
): Promise<{ info: TeeInterfaces["gramine"]; provider?: EvidenceProvider }> {
  if (!(await exists(path))) return { info: { path, present: false } };
  let attestationType: string | undefined;
  try {
    attestationType = await readAttestationType(path);
    const provider = await gramineProvider({ root: path });
    return { info: { path, present: true, attestationType }, provider };
  } catch (error) {
    if (!(error instanceof TeeError)) throw error;
    const problem = withoutStop(error.message);
    return {
      info: {
        path,
        present: true,
        problem,
        attestationType,
      },
    };
  }
}

function hints(
  configfsPresent: boolean,
  graminePresent: boolean,
  paths: readonly { path: string; present: boolean }[],
): string[] {
  const present = (p: string) => paths.some((x) => x.path === p && x.present);
  const out: string[] = [];
  if (!configfsPresent && (present("/dev/sev-guest") || present("/dev/tdx_guest"))) {
    out.push(
      "This looks like a confidential VM, but configfs-tsm is missing: use Linux 6.7 or later and mount configfs (`mount -t configfs none /sys/kernel/config`).",
    );
  }
  if (!graminePresent && present("/dev/sgx_enclave")) {
    out.push("SGX is available here: run Cloister inside a Gramine enclave to attest with it.");
  }
  return out;
}

/** Problems are embedded in a longer sentence, so they lose their full stop. */
function withoutStop(sentence: string): string {
  return sentence.endsWith(".") ? sentence.slice(0, -1) : sentence;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
