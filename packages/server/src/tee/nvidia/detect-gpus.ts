import { randomBytes } from "node:crypto";
import { TeeError } from "../errors.js";
import { collectWithNvattest } from "./nvattest.js";
import { type GpuDevice, readProcDriverVersion, readProcGpus } from "./proc.js";
import type { GpuEvidenceProvider } from "./provider.js";
import {
  type GpuCcState,
  type GpuReadyState,
  parseQueryGpus,
  queryConfCompute,
  smi,
  withoutStop,
} from "./smi.js";
import { type FoundTools, findTools, type GpuToolPaths } from "./tools.js";

const SMI_TIMEOUT_MS = 15_000;
/** nvattest talks SPDM to every GPU in turn, which takes seconds each on an 8-GPU board. */
const NVATTEST_TIMEOUT_MS = 120_000;

export interface GpuProbeOptions {
  /** The file-system root under which /proc/driver/nvidia is read; defaults to "/". */
  readonly root?: string;
  /** Tool paths; by default nvidia-smi and nvattest are looked up on env.PATH. */
  readonly tools?: GpuToolPaths;
  /** The environment for the tool lookup and the tools; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** A limit on each tool run, in milliseconds; defaults to 15 s for nvidia-smi, 120 s for nvattest. */
  readonly timeoutMs?: number;
}

/** What `cloister doctor` shows about confidential GPUs. */
export interface GpuReport {
  readonly gpus: readonly GpuDevice[];
  readonly driverVersion?: string;
  readonly ccMode: GpuCcState;
  readonly readyState: GpuReadyState;
  readonly tools: FoundTools;
  /** Whether evidence could be collected, tried once with a random nonce when a provider exists. */
  readonly collection:
    | { readonly status: "ok"; readonly count: number }
    | { readonly status: "failed"; readonly problem: string }
    | { readonly status: "skipped"; readonly reason: string };
  /** The provider `cloister serve` would use, or why there is none. */
  readonly provider?: string;
  readonly problem?: string;
  /** Sentences on how to make GPU attestation work. */
  readonly hints: readonly string[];
}

/**
 * The GPU evidence provider for this machine, or undefined where there is no NVIDIA GPU in CC
 * mode with NVIDIA's tools to attest it. Never throws for a missing driver, GPU or tool;
 * describeGpus() says why.
 */
export async function detectGpus(
  options: GpuProbeOptions = {},
): Promise<GpuEvidenceProvider | undefined> {
  return (await probe(options)).provider;
}

/** Everything detectGpus() looks at, plus one trial collection when a provider exists. */
export async function describeGpus(options: GpuProbeOptions = {}): Promise<GpuReport> {
  const { report, provider } = await probe(options);
  if (provider === undefined) return report;
  try {
    const attestations = await provider.collect(new Uint8Array(randomBytes(32)));
    return { ...report, collection: { status: "ok", count: attestations.length } };
  } catch (error) {
    if (!(error instanceof TeeError)) throw error;
    return {
      ...report,
      collection: { status: "failed", problem: withoutStop(error.message) },
      hints: [
        ...report.hints,
        "Evidence collection failed: run `nvattest collect-evidence --device gpu --log-level debug` as the user Cloister runs as to see why.",
      ],
    };
  }
}

async function probe(
  options: GpuProbeOptions,
): Promise<{ report: GpuReport; provider?: GpuEvidenceProvider }> {
  const root = options.root ?? "/";
  const env = options.env ?? process.env;
  const smiOptions = { timeoutMs: options.timeoutMs ?? SMI_TIMEOUT_MS, env };
  const [procGpus, driverVersion, tools] = await Promise.all([
    readProcGpus(root),
    readProcDriverVersion(root),
    findTools(options.tools ?? {}, env),
  ]);
  const problems: string[] = [];
  let gpus = procGpus;
  if (gpus.length === 0 && tools.nvidiaSmi !== undefined) {
    // Containers often lack the driver's /proc files but have nvidia-smi and the device nodes.
    try {
      gpus = parseQueryGpus(
        await smi(
          tools.nvidiaSmi,
          ["--query-gpu=name,pci.bus_id,uuid", "--format=csv,noheader"],
          smiOptions,
        ),
      );
    } catch (error) {
      if (!(error instanceof TeeError)) throw error;
      problems.push(withoutStop(error.message));
    }
  }
  const base = {
    gpus,
    ...(driverVersion === undefined ? {} : { driverVersion }),
    tools,
  };
  const skip = (reason: string, hints: string[] = []) => ({
    report: {
      ...base,
      ccMode: "unknown" as const,
      readyState: "unknown" as const,
      collection: { status: "skipped" as const, reason },
      problem: reason,
      hints,
    },
  });
  if (gpus.length === 0) {
    return skip(
      problems.length > 0
        ? `No NVIDIA GPU found: ${problems.join("; ")}`
        : `No NVIDIA GPU found (nothing in ${root.replace(/\/$/, "")}/proc/driver/nvidia/gpus${tools.nvidiaSmi === undefined ? ", no nvidia-smi" : ""})`,
    );
  }
  if (tools.nvidiaSmi === undefined) {
    return skip("nvidia-smi was not found, so the GPUs' confidential-computing mode is unknown", [
      "Install the NVIDIA driver's utilities (nvidia-smi) or put them on PATH.",
    ]);
  }
  const state = await queryConfCompute(tools.nvidiaSmi, smiOptions);
  const hints: string[] = [];
  if (state.ccMode === "off") {
    hints.push(
      "CC mode is off: the host must switch the GPU to CC mode before passing it to this VM, e.g. with NVIDIA's gpu-admin-tools (`nvidia_gpu_tools.py --set-cc-mode=on --reset-after-cc-mode-switch`).",
    );
  } else if (state.ccMode === "devtools") {
    hints.push(
      "CC mode is devtools: the GPU attests, but its debug paths are open; relying parties should refuse it in production.",
    );
  }
  if (state.readyState === "not-ready" && (state.ccMode === "on" || state.ccMode === "devtools")) {
    hints.push(
      "The GPUs are not ready for work: once attestation has passed, set the ready state with `nvidia-smi conf-compute -srs 1` (as root).",
    );
  }
  if (tools.nvattest === undefined) {
    hints.push(
      "Install NVIDIA's Attestation CLI (nvattest, from the NVIDIA attestation-sdk packages) or put it on PATH, to collect GPU evidence.",
    );
  }
  const report = { ...base, ccMode: state.ccMode, readyState: state.readyState, hints };
  const unusable = (reason: string) => ({
    report: { ...report, collection: { status: "skipped" as const, reason }, problem: reason },
  });
  if (state.ccMode === "off" || state.ccMode === "unknown") {
    const why = state.problems.length > 0 ? `: ${state.problems.join("; ")}` : "";
    return unusable(`The GPUs' CC mode is ${state.ccMode}${why}`);
  }
  if (tools.nvattest === undefined) return unusable("nvattest was not found");
  const provider = nvattestProvider(tools.nvattest, gpus.length, state.ccMode, {
    timeoutMs: options.timeoutMs ?? NVATTEST_TIMEOUT_MS,
    env,
  });
  return {
    report: {
      ...report,
      collection: { status: "skipped", reason: "not tried yet" },
      provider: provider.description,
    },
    provider,
  };
}

function nvattestProvider(
  tool: string,
  count: number,
  ccMode: "on" | "devtools",
  options: { timeoutMs: number; env: NodeJS.ProcessEnv },
): GpuEvidenceProvider {
  return {
    description: `nvattest (${count} GPU${count === 1 ? "" : "s"}, CC ${ccMode})`,
    count,
    async collect(nonce) {
      const attestations = await collectWithNvattest(tool, nonce, options);
      // A GPU left out of the evidence would leave the workload's GPU set partly unattested.
      if (attestations.length !== count) {
        throw new TeeError(
          "gpu.provider.count_mismatch",
          `nvattest returned ${attestations.length} evidence${attestations.length === 1 ? "" : "s"} for ${count} GPU${count === 1 ? "" : "s"}.`,
        );
      }
      // The mode read inside the TEE travels with each GPU, bound into the CPU evidence.
      return attestations.map((attestation) => ({ ...attestation, ccMode }));
    },
  };
}
