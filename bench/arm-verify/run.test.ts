import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { ArmBenchResult } from "./run.js";

/**
 * A tiny run: checks the result file's shape as bench/README.md describes it and that every
 * token verified in both implementations (run.ts aborts otherwise). It asserts no timing.
 */
it("writes a complete result file from a tiny run", { timeout: 60_000 }, async () => {
  const out = await mkdtemp(join(tmpdir(), "cloister-bench-arm-"));
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        fileURLToPath(new URL("run.ts", import.meta.url)),
        ...["--warm", "5", "--out", out],
      ],
      { cwd: fileURLToPath(new URL("../../", import.meta.url)) },
    );
    const latest = await readFile(join(out, "arm-verify-latest.json"), "utf8");
    const result = JSON.parse(latest) as ArmBenchResult;
    assert.equal(
      await readFile(join(out, `arm-verify-${result.startedAt.slice(0, 10)}.json`), "utf8"),
      latest,
    );
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
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
