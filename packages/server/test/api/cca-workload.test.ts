import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fetchAttestation } from "@cloister/client";
import { CCA_COLLATERAL } from "@cloister/core";
import { startTestWorkload, type TestWorkload } from "../../../client/test/support/workload.js";
import { configfsTsmProvider } from "../../src/tee/index.js";
import { fakeTsm } from "../tee/fake-tsm.js";
import { vector } from "../tee/vectors.js";

// A workload in an Arm CCA realm. The platform key (CPAK) is a trust anchor the workload cannot
// vouch for itself, so the caller brings it: `connect(url, { collateral })`, `--cca-keys`.
let t: TestWorkload;
let home: string;
let cpak: string;
before(async () => {
  const token = await vector("cca/tf-rmm-fvp/cca-token-01.cbor");
  cpak = new TextDecoder().decode(await vector("cca/tf-rmm-fvp/cca_platform.pub"));
  home = await mkdtemp(join(tmpdir(), "cloister-cca-workload-"));
  const dir = join(home, "tsm", "report");
  const kernel = await fakeTsm(dir, { provider: "arm_cca_guest", outblob: token });
  t = await startTestWorkload({
    engines: [],
    provider: await configfsTsmProvider({ root: dir, files: kernel.files }),
  });
});
after(async () => {
  await t.close();
  await rm(home, { recursive: true, force: true });
});

test("the caller's CPAK verifies a realm's token; without it the platform token is unverifiable", async () => {
  const policy = { platforms: ["cca" as const] };
  const withKey = await fetchAttestation(t.workload.url, {
    policy,
    collateral: { [CCA_COLLATERAL.platformKeys]: cpak },
  });
  // The fake kernel returns a fixed token, so the manifest binding cannot hold: the one failure
  // left is the binding, which shows the token itself verified to the caller's key.
  const failed = withKey.result.checks.filter((c) => c.status === "fail").map((c) => c.code);
  assert.deepEqual(failed, ["binding.report_data"]);
  assert.equal(withKey.result.claims?.platform, "cca");

  const without = await fetchAttestation(t.workload.url, { policy });
  assert.equal(without.result.claims, undefined);
  assert.ok(
    without.result.checks.some((c) => c.status === "fail" && c.code.startsWith("cca.")),
    JSON.stringify(without.result.checks),
  );
});
