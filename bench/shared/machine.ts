/** Where and on what code a result was measured. */

import { execFileSync } from "node:child_process";
import { arch, availableParallelism, cpus, loadavg, platform, release, totalmem } from "node:os";

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  /** What Node may use; below `cores` under a CPU quota. */
  readonly availableParallelism: number;
  readonly totalMemoryBytes: number;
  readonly node: string;
  readonly os: { readonly platform: string; readonly release: string; readonly arch: string };
  /** 1, 5 and 15 minute load averages when the run began: other work skews every figure. */
  readonly loadAverageAtStart: readonly number[];
}

export interface GitState {
  readonly commit: string;
  /** Uncommitted changes: the commit alone does not say what code ran. */
  readonly dirty: boolean;
}

export function machine(): Machine {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    availableParallelism: availableParallelism(),
    totalMemoryBytes: totalmem(),
    node: process.version,
    os: { platform: platform(), release: release(), arch: arch() },
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** Busy time of all the machine's cores since boot, in microseconds (10 ms resolution). */
export function machineBusyMicros(): number {
  return cpus().reduce((sum, { times: t }) => sum + (t.user + t.nice + t.sys + t.irq) * 1000, 0);
}

/** The checkout's commit, or null outside a git checkout (e.g. a published tarball). */
export function gitState(): GitState | null {
  try {
    const git = (...args: string[]) =>
      execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return { commit: git("rev-parse", "HEAD"), dirty: git("status", "--porcelain") !== "" };
  } catch {
    return null;
  }
}
