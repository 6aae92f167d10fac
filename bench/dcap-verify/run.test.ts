import assert from "node:assert/strict";
import { it } from "node:test";
import { smokeRun } from "../shared/smoke.js";
import type { DcapBenchResult } from "./report.js";
import { VECTOR_IDS } from "./vectors.js";

/**
 * A tiny run: checks that every mode is produced for every quote, with the shape
 * bench/README.md describes, and that both implementations gave the expected TCB status (run.ts
 * aborts otherwise). It asserts no timing.
 */
it("writes a complete result file from a tiny run", { timeout: 180_000 }, async () => {
  const { result, stdout } = await smokeRun<DcapBenchResult>("dcap-verify", [
    "--warm",
    "4",
    "--cold",
    "4",
    "--rounds",
    "2",
    "--processes",
    "1",
  ]);
  assert.equal(result.schema, "cloister/bench/dcap-verify/v1");
  assert.equal(result.machine.node, process.version);
  assert.equal(result.parameters.oracle.package, "@phala/dcap-qvl");
  assert.match(result.parameters.oracle.version, /^\d+\.\d+\.\d+/);
  assert.deepEqual(
    result.vectors.map((v) => v.id),
    [...VECTOR_IDS],
  );
  const byId = new Map(result.vectors.map((v) => [v.id, v]));
  assert.equal(byId.get("tdx/dcap-qvl-uptodate")?.expectedStatus, "UpToDate");
  assert.equal(byId.get("sgx/dcap-qvl")?.expectedStatus, "ConfigurationAndSWHardeningNeeded");
  // dcap-qvl's own vectors are the comparison: the oracle must accept them.
  assert.equal(byId.get("tdx/dcap-qvl-uptodate")?.oracle, "accepted");
  assert.equal(byId.get("sgx/dcap-qvl")?.oracle, "accepted");

  const expectedRows = result.vectors.flatMap((v) => {
    const oracle = v.oracle === "accepted";
    return [
      ...(oracle ? [`${v.id} warm dcap-qvl`] : []),
      `${v.id} warm cloister`,
      `${v.id} warm cloister-attest`,
      ...(oracle ? [`${v.id} collateral-cold dcap-qvl`] : []),
      `${v.id} collateral-cold cloister`,
    ];
  });
  const processRows = result.vectors.flatMap((v) => [
    `${v.id} process-cold cloister`,
    ...(v.oracle === "accepted" ? [`${v.id} process-cold dcap-qvl`] : []),
  ]);
  assert.deepEqual(
    result.rows.map((r) => `${r.vector} ${r.mode} ${r.implementation}`),
    [...expectedRows, ...processRows],
  );
  for (const row of result.rows) {
    const s = row.summary;
    assert.equal(s.n, row.mode === "process-cold" ? 1 : 4);
    for (const value of [s.opsPerSecond, s.meanUs, s.p50Us, s.p95Us, s.p99Us]) {
      assert.ok(value > 0, `${row.vector} ${row.mode} ${row.implementation}`);
    }
    assert.equal(typeof s.heapUsedDeltaBytes, "number");
    assert.equal(row.tee, byId.get(row.vector)?.tee);
  }
  const accepted = result.vectors.filter((v) => v.oracle === "accepted").map((v) => v.id);
  assert.deepEqual(
    result.comparisons.map((c) => `${c.vector} ${c.mode}`),
    [
      ...accepted.flatMap((id) => [`${id} warm`, `${id} collateral-cold`]),
      ...accepted.map((id) => `${id} process-cold`),
    ],
  );
  for (const c of result.comparisons) assert.ok(c.throughputRatio > 0);
  assert.deepEqual(
    result.targets.map((t) => t.name),
    accepted.map((id) => `warm throughput ÷ dcap-qvl, ${id}`),
  );
  assert.match(
    stdout,
    /Target warm throughput ÷ dcap-qvl, tdx\/dcap-qvl-uptodate >= 2: .* (PASS|FAIL)/,
  );
});
