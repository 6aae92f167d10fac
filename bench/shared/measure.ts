/** Timing loops and their summaries, in microseconds. */

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { percentile, round } from "./stats.js";

/** One timed row of the results: a mode (warm, cold, process-cold) run by one implementation. */
export interface Summary {
  /** Measured samples; warm-up samples are not among them. */
  readonly n: number;
  /** n over the wall time of the measured loop: one verification at a time, back to back. */
  readonly opsPerSecond: number;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p95Us: number;
  readonly p99Us: number;
  readonly minUs: number;
  readonly maxUs: number;
  /**
   * heapUsed after the loop minus before it, each read after a full GC: what the measured
   * verifications left alive (caches), not what they allocated and dropped. Null where not read.
   */
  readonly heapUsedDeltaBytes: number | null;
}

export function summarize(
  samplesUs: readonly number[],
  wallUs: number,
  heapUsedDeltaBytes: number | null,
): Summary {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const n = sorted.length;
  return {
    n,
    opsPerSecond: round(n / (wallUs / 1e6), 1),
    meanUs: round(sorted.reduce((sum, v) => sum + v, 0) / (n || Number.NaN), 1),
    p50Us: round(percentile(sorted, 50), 1),
    p95Us: round(percentile(sorted, 95), 1),
    p99Us: round(percentile(sorted, 99), 1),
    minUs: round(sorted[0] ?? Number.NaN, 1),
    maxUs: round(sorted.at(-1) ?? Number.NaN, 1),
    heapUsedDeltaBytes,
  };
}

const gc: () => void =
  globalThis.gc ??
  (() => {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  })();

/**
 * Full garbage collections, with or without --expose-gc (the flag can be set at run time, and a
 * new context then sees `gc`). Two: what the first finds dead but finalizable (the native
 * handles of finished crypto jobs) is freed by the second. Heap figures without them would
 * mostly measure garbage.
 */
export function fullGc(): void {
  gc();
  gc();
}

export interface Timed {
  readonly samplesUs: number[];
  readonly wallUs: number;
  readonly heapUsedDeltaBytes: number;
}

/**
 * Runs `op(i)` for i in [0, warmup + n) one at a time, discards the first `warmup` timings and
 * keeps the rest. `check` sees every result (outside the timing) so that a benchmark of
 * failures cannot pass for one of verifications.
 */
export async function timeLoop<T>(
  warmup: number,
  n: number,
  op: (i: number) => T | Promise<T>,
  check: (result: T, i: number) => void,
): Promise<Timed> {
  for (let i = 0; i < warmup; i++) check(await op(i), i);
  // Allocated before the heap is read, so that the samples do not count as what the loop kept.
  const samples = new Float64Array(n);
  fullGc();
  const heapBefore = process.memoryUsage().heapUsed;
  const start = performance.now();
  for (let j = 0; j < n; j++) {
    const i = warmup + j;
    const t0 = performance.now();
    const result = await op(i);
    samples[j] = (performance.now() - t0) * 1000;
    check(result, i);
  }
  const wallUs = (performance.now() - start) * 1000;
  fullGc();
  const heapUsedDeltaBytes = process.memoryUsage().heapUsed - heapBefore;
  return { samplesUs: Array.from(samples), wallUs, heapUsedDeltaBytes };
}
