import assert from "node:assert/strict";
import { it } from "node:test";
import { smokeRun } from "../shared/smoke.js";
import type { ModelHashBenchResult } from "./run.js";

/**
 * A tiny run: checks the result file's shape as bench/README.md describes it and that every
 * implementation's digests agree with openssl's (run.ts aborts otherwise). It asserts no speed.
 */
it("writes a complete result file from a tiny run", { timeout: 120_000 }, async () => {
  const { result, stdout } = await smokeRun<ModelHashBenchResult>("model-hash", [
    "--size",
    "3MiB",
    "--files",
    "3",
    "--reps",
    "1",
  ]);
  assert.equal(result.schema, "cloister/bench/model-hash/v1");
  assert.equal(result.machine.node, process.version);
  assert.match(result.machine.openssl, /^OpenSSL /);
  assert.deepEqual(result.parameters, {
    sizeBytes: 3 * 1024 * 1024,
    files: 3,
    reps: 1,
    build: "esbuild",
    workers: result.machine.availableParallelism,
  });
  assert.equal(result.digests.single.length, 1);
  assert.equal(result.digests.multi.length, 3);
  for (const digest of [...result.digests.single, ...result.digests.multi]) {
    assert.match(digest, /^[0-9a-f]{64}$/);
  }
  assert.deepEqual(
    result.rows.map((r) => `${r.set} ${r.implementation}`),
    [
      "single cloister",
      "single openssl",
      "single sha256sum",
      "single node-stream",
      "multi cloister",
      "multi cloister-1-thread",
      "multi openssl-parallel",
      "multi openssl",
      "multi sha256sum",
      "multi node-stream",
    ],
  );
  for (const row of result.rows) {
    assert.equal(row.samplesSeconds.length, 1);
    assert.ok(row.mbPerSecond > 0, `${row.set} ${row.implementation}`);
  }
  assert.equal(result.ratios.length, 3 + 4 + 4);
  assert.deepEqual(
    result.targets.map((t) => t.goal),
    [0.9, 0.9],
  );
  assert.match(stdout, /1 file +Cloister hashModel +\d+ +\d+/);
});
