/**
 * "First verification in a new process": each sample is a fresh Node process (first-run-child.ts)
 * that verifies one report once. This is what a CLI call or a freshly started client pays: the
 * pinned AMD roots parsed and their signatures checked, every key imported, and the code itself
 * still unoptimised by the JIT.
 */

import { fork } from "node:child_process";
import { type Summary, summarize } from "../shared/measure.js";
import { percentile, round } from "../shared/stats.js";
import type { SnpVector } from "./vectors.js";

export type Implementation = "cloister" | "node-crypto";

export interface FirstRunTask {
  readonly implementation: Implementation;
  readonly vector: Pick<SnpVector, "report" | "signer" | "intermediate" | "ark"> & {
    readonly verifyAt: string;
  };
}

export interface FirstRunResult {
  readonly ok: boolean;
  /** Importing the implementation's modules (TypeScript sources through tsx for Cloister). */
  readonly importMs: number;
  readonly firstVerificationUs: number;
  /** From the process's start (performance.timeOrigin) until the verification returned. */
  readonly sinceProcessStartMs: number;
  /** heapUsed after the verification minus before it, each after a full GC. */
  readonly heapUsedDeltaBytes: number;
}

export interface FirstRunSummary extends Summary {
  /** Median import time of the implementation's modules, in milliseconds. */
  readonly importMsP50: number;
  /** Median time from process start to the end of the first verification, in milliseconds. */
  readonly sinceProcessStartMsP50: number;
}

const CHILD = new URL("./first-run-child.ts", import.meta.url);

function runOnce(task: FirstRunTask): Promise<FirstRunResult> {
  const child = fork(CHILD, [], {
    execArgv: ["--conditions=source", "--import", "tsx", "--expose-gc"],
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    let result: FirstRunResult | undefined;
    child.once("message", (message: FirstRunResult) => {
      result = message;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (result === undefined)
        reject(new Error(`first-run-child exited (${code}) with no result`));
      else if (!result.ok) reject(new Error(`a ${task.implementation} first verification failed`));
      else resolve(result);
    });
    child.send(task);
  });
}

/**
 * `processes` fresh processes per implementation, one after the other (never two at once, so
 * that they do not compete for the cores), alternating implementations and rotating vectors.
 */
export async function measureFirstRuns(
  vectors: readonly SnpVector[],
  processes: number,
  progress: (line: string) => void,
): Promise<Record<Implementation, FirstRunSummary>> {
  const results: Record<Implementation, FirstRunResult[]> = { cloister: [], "node-crypto": [] };
  for (let k = 0; k < processes; k++) {
    const v = vectors[k % vectors.length] as SnpVector;
    const vector = {
      report: v.report,
      signer: v.signer,
      intermediate: v.intermediate,
      ark: v.ark,
      verifyAt: v.verifyAt.toISOString(),
    };
    const order: Implementation[] =
      k % 2 === 0 ? ["cloister", "node-crypto"] : ["node-crypto", "cloister"];
    for (const implementation of order) {
      results[implementation].push(await runOnce({ implementation, vector }));
    }
    if ((k + 1) % 5 === 0 || k + 1 === processes) progress(`  ${k + 1}/${processes} process pairs`);
  }
  const summary = (list: readonly FirstRunResult[]): FirstRunSummary => {
    const samples = list.map((r) => r.firstVerificationUs);
    // The verification alone, one per process: ops/s is 1e6 / mean, process start excluded.
    const busyUs = samples.reduce((sum, v) => sum + v, 0);
    return {
      ...summarize(samples, busyUs, Math.round(median(list.map((r) => r.heapUsedDeltaBytes)))),
      importMsP50: round(median(list.map((r) => r.importMs)), 1),
      sinceProcessStartMsP50: round(median(list.map((r) => r.sinceProcessStartMs)), 1),
    };
  };
  return { cloister: summary(results.cloister), "node-crypto": summary(results["node-crypto"]) };
}

function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}
