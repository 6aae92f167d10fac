import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { it } from "node:test";
import { smokeRun } from "../shared/smoke.js";
import type { ModelCryptoBenchResult } from "./run.js";

/**
 * A tiny run: checks the result file's shape as bench/README.md describes it (every round trip
 * inside run.ts is checked, and it aborts otherwise). It asserts no speed.
 */
it("writes a complete result file from a tiny run", { timeout: 60_000 }, async () => {
  const { result, stdout } = await smokeRun<ModelCryptoBenchResult>("model-crypto", [
    "--size",
    "300k",
    "--segment-sizes",
    "64k,1m",
    "--openssl-seconds",
    "1",
    "--dir",
    tmpdir(),
  ]);
  assert.equal(result.schema, "cloister/bench/model-crypto/v1");
  assert.equal(result.parameters.plaintextBytes, 300 * 1024);
  assert.deepEqual(result.parameters.segmentSizes, [65536, 1048576]);
  assert.deepEqual(
    result.rows.map((r) => `${r.segmentSize} ${r.mode} ${r.operation}`),
    [65536, 1048576].flatMap((size) =>
      ["aead-cached", "aead-memory", "stream-memory", "file"].flatMap((mode) =>
        ["encrypt", "decrypt"].map((operation) => `${size} ${mode} ${operation}`),
      ),
    ),
  );
  for (const row of result.rows) {
    // The cached rows seal whole segments: as many as the buffer has.
    const segments = Math.ceil((300 * 1024) / row.segmentSize);
    const cached = segments * Math.min(row.segmentSize, 300 * 1024);
    assert.equal(row.bytes, row.mode === "aead-cached" ? cached : 300 * 1024);
    assert.ok(row.mbPerSecond > 0 && row.seconds > 0, `${row.mode} ${row.operation}`);
    if (result.baselines.openssl !== null)
      assert.equal(
        row.vsOpenssl,
        Math.round((row.mbPerSecond / result.baselines.openssl.mbPerSecond16384) * 1000) / 1000,
      );
  }
  assert.equal(result.targets.length, 4);
  assert.ok(result.baselines.nodeSingleCipherMbPerSecond > 0);
  assert.match(stdout, /aead-memory +encrypt +1024 KiB/);
});
