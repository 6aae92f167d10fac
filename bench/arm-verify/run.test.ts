import assert from "node:assert/strict";
import { it } from "node:test";
import { smokeRun } from "../shared/smoke.js";
import type { ArmBenchResult } from "./run.js";

/**
 * A tiny run: checks the result file's shape as bench/README.md describes it and that every
 * token verified in both implementations (run.ts aborts otherwise). It asserts no timing.
 */
it("writes a complete result file from a tiny run", { timeout: 60_000 }, async () => {
  const { result, stdout } = await smokeRun<ArmBenchResult>("arm-verify", ["--warm", "5"]);
  assert.equal(result.schema, "cloister/bench/arm-verify/v1");
  assert.equal(result.machine.node, process.version);
  assert.deepEqual(
    result.vectors.map((v) => `${v.tee} ${v.signatures}`),
    ["psa 1", "psa 1", "cca 2", "cca 2"],
  );
  assert.deepEqual(
    result.rows.map((r) => `${r.vector} ${r.implementation}`),
    result.vectors.flatMap((v) => [`${v.id} node-crypto`, `${v.id} cloister`]),
  );
  for (const row of result.rows) {
    const s = row.summary;
    assert.equal(row.mode, "warm");
    assert.equal(s.n, 5);
    for (const value of [s.opsPerSecond, s.meanUs, s.p50Us, s.p95Us, s.p99Us]) {
      assert.ok(value > 0, `${row.vector} ${row.implementation}`);
    }
  }
  assert.match(stdout, /cca\/tf-rmm-cmw-907 +Cloister verifyEvidence +5 /);
});
