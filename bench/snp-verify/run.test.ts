import assert from "node:assert/strict";
import { it } from "node:test";
import { smokeRun } from "../shared/smoke.js";
import { ENCODINGS } from "./collateral.js";
import type { SnpBenchResult } from "./report.js";

/**
 * A tiny run: checks that every mode is produced, with the shape bench/README.md describes, and
 * that every vector verified (run.ts aborts otherwise). It asserts no timing.
 */
it("writes a complete result file from a tiny run", { timeout: 60_000 }, async () => {
  const { result, stdout } = await smokeRun<SnpBenchResult>("snp-verify", [
    "--warm",
    "8",
    "--cold",
    "8",
    "--processes",
    "1",
  ]);
  assert.equal(result.schema, "cloister/bench/snp-verify/v1");
  assert.equal(result.machine.node, process.version);
  assert.ok(result.vectors.length >= 13, `only ${result.vectors.length} vectors`);
  assert.ok(result.vectors.some((v) => v.kind === "vlek"));

  assert.deepEqual(
    result.rows.map((r) => `${r.mode} ${r.implementation}`),
    [
      "warm node-crypto",
      "warm cloister",
      "warm cloister-attest",
      "cold node-crypto",
      "cold cloister",
      "process-cold node-crypto",
      "process-cold cloister",
    ],
  );
  for (const row of result.rows) {
    const s = row.summary;
    assert.equal(s.n, row.mode === "process-cold" ? 1 : 8);
    for (const value of [s.opsPerSecond, s.meanUs, s.p50Us, s.p95Us, s.p99Us]) {
      assert.ok(value > 0, `${row.mode} ${row.implementation}`);
    }
    assert.equal(typeof s.heapUsedDeltaBytes, "number");
    if (row.mode === "cold") assert.deepEqual(Object.keys(row.byEncoding ?? {}), [...ENCODINGS]);
  }
  assert.deepEqual(
    result.comparisons.map((c) => c.mode),
    ["warm", "cold", "process-cold"],
  );
  assert.deepEqual(
    result.targets.map((t) => t.name),
    ["warm verifyEvidence p50 (µs)"],
  );
  assert.match(stdout, /Target warm verifyEvidence p50 \(µs\) < 1000: .* (PASS|FAIL)/);
});
