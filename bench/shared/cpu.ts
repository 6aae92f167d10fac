/** Whose work the cores did while a bench measured: its own, or other processes'. */

import { machineBusyMicros } from "./machine.js";
import { round } from "./stats.js";

export interface CpuReading {
  readonly wallSeconds: number;
  /** Busy time of all the machine's cores over the measurement. */
  readonly busyMicros: number;
  /** The bench's own CPU time over it. */
  readonly ownMicros: number;
  /** Other processes' CPU time over all cores' time: above a few percent, figures are disturbed. */
  readonly otherShare: number;
}

export interface CpuMeter {
  /** `ownMicros` where the bench's CPU time is more than this process's (children included). */
  stop(ownMicros?: number): CpuReading;
}

/** Starts measuring now; `cores` is the machine's, as `machine()` gives it. */
export function startCpuMeter(cores: number): CpuMeter {
  const busyBefore = machineBusyMicros();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  return {
    stop(ownMicros) {
      const wallSeconds = (performance.now() - start) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      const busyMicros = machineBusyMicros() - busyBefore;
      const own = ownMicros ?? cpu.user + cpu.system;
      return {
        wallSeconds,
        busyMicros,
        ownMicros: own,
        otherShare: round(Math.max(0, busyMicros - own) / 1e6 / (wallSeconds * cores), 3),
      };
    },
  };
}

/** The results' note on other processes' share, `when` saying over what ("during the run"). */
export function otherShareNote(otherShare: number, when: string): string {
  return `Other processes used ${(100 * otherShare).toFixed(1)}% of the machine's CPU time ${when}${otherShare > 0.05 ? ": the figures are disturbed; run again on a quiet machine" : ""}.`;
}
