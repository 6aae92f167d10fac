/**
 * One process, one verification: the first a fresh Node process makes of a DCAP quote. Forked
 * by first-run.ts, which sends the task and reads the timing and the outcome back. The
 * implementation's modules are imported only once the task has arrived, so that their import
 * is timed apart from the verification.
 */

import type { DcapFirstRunResult, DcapFirstRunTask } from "./first-run.js";
import { cloisterOutcome, type Outcome, oracleOutcome } from "./outcome.js";

const gc = globalThis.gc;
if (gc === undefined || process.send === undefined) {
  throw new Error("Run this through first-run.ts (it needs IPC and --expose-gc).");
}
const send = process.send.bind(process);

process.once("message", async (task: DcapFirstRunTask) => {
  const { vector } = task;
  const now = new Date(vector.verifyAt);
  const importStart = performance.now();
  let verifyOnce: () => Promise<Outcome | undefined> | Outcome;
  if (task.implementation === "cloister") {
    const { verifyEvidence } = await import("@cloister/core");
    const evidence = { platform: vector.tee, format: `${vector.tee}-quote`, data: vector.quote };
    const options = { now, collateral: { dcap_collateral: vector.collateralText } };
    verifyOnce = async () => cloisterOutcome((await verifyEvidence(evidence, options)).claims);
  } else {
    const { verify } = await import("@phala/dcap-qvl");
    const seconds = now.getTime() / 1000;
    verifyOnce = () =>
      oracleOutcome(verify(vector.quote, JSON.parse(vector.collateralText), seconds));
  }
  const importMs = performance.now() - importStart;
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const start = performance.now();
  let outcome: Outcome | undefined;
  let error: string | undefined;
  try {
    outcome = await verifyOnce();
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const end = performance.now();
  if (outcome === undefined && error === undefined) error = "the quote did not verify";
  gc();
  const result: DcapFirstRunResult = {
    ok: outcome !== undefined,
    importMs,
    firstVerificationUs: (end - start) * 1000,
    sinceProcessStartMs: end,
    heapUsedDeltaBytes: process.memoryUsage().heapUsed - heapBefore,
    ...(outcome === undefined ? {} : { outcome }),
    ...(error === undefined ? {} : { error }),
  };
  send(result, () => process.disconnect());
});
