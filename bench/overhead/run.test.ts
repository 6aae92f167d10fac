import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { it } from "node:test";
import { writeBigramModel } from "../../packages/server/test/support/bigram-model.js";
import { smokeRun } from "../shared/smoke.js";
import type { BenchResult } from "./report.js";

/**
 * A tiny run on the bigram test model: checks that every section is produced, with the shape
 * bench/README.md describes. It asserts no timing: only that numbers are there.
 */
it("writes a complete result file from a tiny run", { timeout: 60_000 }, async () => {
  const model = await writeBigramModel();
  try {
    const { result } = await smokeRun<BenchResult>("overhead", [
      ...["--model", model, "--prompts", "1", "--rounds", "1", "--warmup", "0"],
      ...["--max-tokens", "4", "--concurrency", "1,2", "--seconds", "0.2", "--cell-warmup", "0"],
    ]);

    assert.equal(result.schema, "cloister/bench/overhead/v1");
    assert.equal(result.model.id, "bigram");
    assert.match(result.model.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(result.machine.node, process.version);

    assert.deepEqual(
      result.generation.map((c) => `${c.api} ${c.stream}`),
      ["completions false", "completions true", "chat false", "chat true"],
    );
    for (const cell of result.generation) {
      // Greedy decoding: the engine, Cloister and plaintext must agree token for token.
      assert.equal(cell.identicalOutputs, true);
      for (const path of Object.values(cell.paths)) {
        assert.equal(path.requests, 1);
        assert.ok(path.completionTokens >= 1);
        assert.equal(typeof path.latencyMs.p50, "number");
        assert.equal(path.ttftMs === null, !cell.stream);
      }
      assert.equal(typeof cell.cloisterVsInProcess.tokensPerSecondRatio, "number");
    }

    assert.deepEqual(
      result.gateway.map((c) => `${c.route} x${c.concurrency}`),
      [
        "GET /v1/models x1",
        "GET /v1/models x2",
        "POST /v1/completions (max_tokens 1) x1",
        "POST /v1/completions (max_tokens 1) x2",
      ],
    );
    for (const cell of result.gateway) {
      for (const way of [cell.ohttp, cell.plaintext]) {
        assert.equal(way.errors, 0);
        assert.ok(way.requests >= 1);
      }
      assert.equal(typeof cell.ratio, "number");
    }

    assert.ok(result.memory.engineOnly.rssBytes > 0);
    assert.ok(result.memory.workload.heapUsedBytes > 0);
    assert.equal(
      result.memory.workloadMinusEngine.rssBytes,
      result.memory.workload.rssBytes - result.memory.engineOnly.rssBytes,
    );
    assert.equal(result.targets.length, 2 * result.generation.length + result.gateway.length);
    for (const target of result.targets) assert.equal(typeof target.met, "boolean");
  } finally {
    await rm(dirname(model), { recursive: true, force: true });
  }
});
