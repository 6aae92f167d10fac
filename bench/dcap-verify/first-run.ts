/**
 * "First verification in a new process": each sample is a fresh Node process
 * (first-run-child.ts) that verifies one quote once, collateral text and all. Nothing is cached
 * yet: Cloister parses the pinned Intel root, verifies both certificate chains, the TCB info and
 * QE identity signatures and the CRLs, and the JIT is cold. It is the only mode in which
 * Cloister re-verifies Intel's collateral signatures: within a process their results are kept
 * by the signed bytes, which no valid collateral variation can change.
 */

import { fork } from "node:child_process";
import { summarize } from "../shared/measure.js";
import { percentile, round } from "../shared/stats.js";
import type { FirstRunResult, FirstRunSummary } from "../snp-verify/first-run.js";
import type { Outcome } from "./outcome.js";
import type { DcapVector } from "./vectors.js";

export type Implementation = "cloister" | "dcap-qvl";

export interface DcapFirstRunTask {
  readonly implementation: Implementation;
  readonly vector: Pick<DcapVector, "tee" | "quote" | "collateralText"> & {
    readonly verifyAt: string;
  };
}

export interface DcapFirstRunResult extends FirstRunResult {
  /** Undefined when the quote did not verify; `ok` is then false. */
  readonly outcome?: Outcome;
  readonly error?: string;
}

const CHILD = new URL("./first-run-child.ts", import.meta.url);

function runOnce(task: DcapFirstRunTask): Promise<DcapFirstRunResult> {
  const child = fork(CHILD, [], {
    execArgv: ["--conditions=source", "--import", "tsx", "--expose-gc"],
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    let result: DcapFirstRunResult | undefined;
    child.once("message", (message: DcapFirstRunResult) => {
      result = message;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (result === undefined) {
        reject(new Error(`first-run-child exited (${code}) with no result`));
      } else if (!result.ok) {
        reject(new Error(`a ${task.implementation} first verification failed: ${result.error}`));
      } else {
        resolve(result);
      }
    });
    child.send(task);
  });
}

/**
 * `processes` fresh processes per implementation for one vector, one after the other (never two
 * at once), alternating which implementation goes first. `check` sees every outcome.
 */
export async function measureFirstRuns(
  vector: DcapVector,
  implementations: readonly Implementation[],
  processes: number,
  check: (implementation: Implementation, outcome: Outcome | undefined, k: number) => void,
): Promise<Partial<Record<Implementation, FirstRunSummary>>> {
  const results: Record<Implementation, DcapFirstRunResult[]> = { cloister: [], "dcap-qvl": [] };
  const task = {
    tee: vector.tee,
    quote: vector.quote,
    collateralText: vector.collateralText,
    verifyAt: vector.verifyAt.toISOString(),
  };
  for (let k = 0; k < processes; k++) {
    const order = k % 2 === 0 ? implementations : [...implementations].reverse();
    for (const implementation of order) {
      const result = await runOnce({ implementation, vector: task });
      check(implementation, result.outcome, k);
      results[implementation].push(result);
    }
  }
  return Object.fromEntries(
    implementations.map((implementation) => [implementation, summary(results[implementation])]),
  );
}

function summary(list: readonly DcapFirstRunResult[]): FirstRunSummary {
  const samples = list.map((r) => r.firstVerificationUs);
  // The verification alone, one per process: ops/s is 1e6 / mean, process start excluded.
  const busyUs = samples.reduce((sum, v) => sum + v, 0);
  return {
    ...summarize(samples, busyUs, Math.round(median(list.map((r) => r.heapUsedDeltaBytes)))),
    importMsP50: round(median(list.map((r) => r.importMs)), 1),
    sinceProcessStartMsP50: round(median(list.map((r) => r.sinceProcessStartMs)), 1),
  };
}

function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}
