import { TeeError } from "../errors.js";
import type { GpuDevice } from "./proc.js";
import { lastLine, runTool } from "./run-tool.js";

/** "devtools" is CC mode with the GPU's debug and profiling paths open: attestable, not secure. */
export type GpuCcState = "on" | "off" | "devtools" | "unknown";
/** Whether the driver lets CUDA work onto CC GPUs; set by the guest once attestation passed. */
export type GpuReadyState = "ready" | "not-ready" | "unknown";

export interface SmiOptions {
  readonly timeoutMs: number;
  readonly env: NodeJS.ProcessEnv;
}

/** `nvidia-smi conf-compute -f` prints "CC status: ON" (or OFF); `-q` says "CC State : ON". */
export function parseCcStatus(text: string): GpuCcState {
  const value = /^\s*CC (?:status|State)\s*:\s*(\S+)/im.exec(text)?.[1]?.toUpperCase();
  if (value === "ON") return "on";
  if (value === "OFF") return "off";
  if (value === "DEVTOOLS") return "devtools";
  return "unknown";
}

/** `nvidia-smi conf-compute -d` prints "DevTools Mode: ON" (or OFF). */
export function parseDevToolsMode(text: string): boolean | undefined {
  const value = /^\s*DevTools Mode\s*:\s*(\S+)/im.exec(text)?.[1]?.toUpperCase();
  return value === "ON" ? true : value === "OFF" ? false : undefined;
}

/** `nvidia-smi conf-compute -grs` prints "Confidential Compute GPUs Ready state: ready" (or not-ready). */
export function parseReadyState(text: string): GpuReadyState {
  const value = /Ready state\s*:\s*([A-Za-z -]+?)\s*$/im.exec(text)?.[1]?.toLowerCase();
  if (value === "ready") return "ready";
  if (value === "not-ready" || value === "not ready") return "not-ready";
  return "unknown";
}

/** `nvidia-smi --query-gpu=name,pci.bus_id,uuid --format=csv,noheader`: one CSV line per GPU. */
export function parseQueryGpus(text: string): GpuDevice[] {
  const gpus: GpuDevice[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const fields = line.split(",").map((f) => f.trim());
    const [name, busId, uuid] = fields;
    if (fields.length !== 3 || name === undefined || busId === undefined || uuid === undefined) {
      throw new TeeError(
        "gpu.provider.output",
        "nvidia-smi --query-gpu printed a line that is not name, bus id, uuid.",
      );
    }
    gpus.push({ busId: normaliseBusId(busId), name, uuid });
  }
  return gpus;
}

/** nvidia-smi writes an 8-digit PCI domain ("00000000:01:00.0"); the kernel writes 4. */
function normaliseBusId(busId: string): string {
  return busId.replace(/^0{4}([0-9a-f]{4}:)/i, "$1").toLowerCase();
}

/** The output of one nvidia-smi call; a non-zero exit is a TeeError naming its last line. */
export async function smi(
  tool: string,
  args: readonly string[],
  options: SmiOptions,
): Promise<string> {
  const run = await runTool(tool, args, options);
  if (run.exitCode !== 0) {
    const detail = lastLine(`${run.stdout}\n${run.stderr}`);
    throw new TeeError(
      "gpu.provider.tool_failed",
      `nvidia-smi ${args.join(" ")} exited with status ${run.exitCode}${detail === "" ? "" : `: ${detail}`}.`,
    );
  }
  return run.stdout;
}

export interface ConfComputeState {
  readonly ccMode: GpuCcState;
  readonly readyState: GpuReadyState;
  /** Why a value is unknown. */
  readonly problems: readonly string[];
}

/** CC mode and ready state; failures become "unknown" with a sentence, never a throw. */
export async function queryConfCompute(
  tool: string,
  options: SmiOptions,
): Promise<ConfComputeState> {
  const problems: string[] = [];
  const ask = async <T>(args: string[], parse: (text: string) => T, fallback: T, quiet = false) => {
    try {
      return parse(await smi(tool, args, options));
    } catch (error) {
      if (!(error instanceof TeeError)) throw error;
      if (!quiet) problems.push(withoutStop(error.message));
      return fallback;
    }
  };
  let ccMode = await ask(["conf-compute", "-f"], parseCcStatus, "unknown" as GpuCcState);
  // Drivers older than DevTools mode refuse -d; that leaves "on", which is then what it is.
  if (
    ccMode === "on" &&
    (await ask(["conf-compute", "-d"], parseDevToolsMode, undefined, true)) === true
  ) {
    ccMode = "devtools";
  }
  const readyState = await ask(
    ["conf-compute", "-grs"],
    parseReadyState,
    "unknown" as GpuReadyState,
  );
  return { ccMode, readyState, problems };
}

export function withoutStop(sentence: string): string {
  return sentence.endsWith(".") ? sentence.slice(0, -1) : sentence;
}
