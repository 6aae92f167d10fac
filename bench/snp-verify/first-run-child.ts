/**
 * One process, one verification: the first one a fresh Node process makes. Forked by
 * first-run.ts, which sends the task and reads the timing back. The implementation's modules
 * are imported only once the task has arrived, so that their import is timed apart from the
 * verification.
 */

import type { FirstRunResult, FirstRunTask } from "./first-run.js";

const gc = globalThis.gc;
if (gc === undefined || process.send === undefined) {
  throw new Error("Run this through first-run.ts (it needs IPC and --expose-gc).");
}
const send = process.send.bind(process);

process.once("message", async (task: FirstRunTask) => {
  const { vector } = task;
  const now = new Date(vector.verifyAt);
  const importStart = performance.now();
  let verifyOnce: () => Promise<boolean> | boolean;
  if (task.implementation === "cloister") {
    const { verifyEvidence } = await import("@cloister/core");
    const evidence = { platform: "sev-snp", format: "snp-report", data: vector.report } as const;
    const options = { now, collateral: { certificates: vector.signer } };
    verifyOnce = async () => (await verifyEvidence(evidence, options)).claims !== undefined;
  } else {
    const { pinIntermediate, verifyReport, verifySigner } = await import("./baseline.js");
    verifyOnce = () => {
      const pinned = pinIntermediate(vector.ark, vector.intermediate);
      const signer = verifySigner({ certificates: vector.signer }, pinned);
      return verifyReport(vector.report, signer, now);
    };
  }
  const importMs = performance.now() - importStart;
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const start = performance.now();
  const ok = await verifyOnce();
  const end = performance.now();
  gc();
  const result: FirstRunResult = {
    ok,
    importMs,
    firstVerificationUs: (end - start) * 1000,
    sinceProcessStartMs: end,
    heapUsedDeltaBytes: process.memoryUsage().heapUsed - heapBefore,
  };
  send(result, () => process.disconnect());
});
