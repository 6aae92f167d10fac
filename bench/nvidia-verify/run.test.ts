import assert from "node:assert/strict";
import { it } from "node:test";
import { smokeRun } from "../shared/smoke.js";
import type { NvidiaBenchResult } from "./run.js";

/**
 * A tiny run: checks the result file's shape as bench/README.md describes it and that every
 * sample verified (run.ts aborts otherwise). It asserts no timing.
 */
it("writes a complete result file from a tiny run", { timeout: 60_000 }, async () => {
  const { result, stdout } = await smokeRun<NvidiaBenchResult>("nvidia-verify", [
    "--iterations",
    "3",
    "--rim-iterations",
    "1",
    "--rounds",
    "2",
  ]);
  assert.equal(result.schema, "cloister/bench/nvidia-verify/v1");
  assert.equal(result.machine.node, process.version);
  assert.equal(result.vector.chainCertificates, 5);
  assert.equal(result.vector.measurements, 64);
  assert.equal(result.vector.rims.length, 2);
  assert.deepEqual(
    result.rows.map((r) => [r.row, r.summary.n, r.roundOpsPerSecond.length]),
    [
      ["node-crypto", 6, 2],
      ["cloister-verify", 6, 2],
      ["cloister-verify-rims", 2, 2],
    ],
  );
  for (const row of result.rows) {
    const s = row.summary;
    for (const value of [row.medianOpsPerSecond, s.meanUs, s.p50Us, s.p95Us, s.p99Us]) {
      assert.ok(value > 0, row.row);
    }
  }
  assert.match(stdout, /\+ 2 RIMs \+ comparison +2 /);
});
