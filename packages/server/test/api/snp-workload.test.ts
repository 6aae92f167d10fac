import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  ATTESTATION_PATH,
  parseBundle,
  SNP_COLLATERAL,
  toHex,
  verifyEvidence,
  verifyWorkload,
} from "@cloister/core";
import { startTestWorkload, type TestWorkload } from "../../../client/test/support/workload.js";
import { configfsTsmProvider } from "../../src/tee/index.js";
import { fakeTsm } from "../tee/fake-tsm.js";
import { vector } from "../tee/vectors.js";

// A workload in an SEV-SNP guest whose host hands out no certificate table (auxblob empty), with
// the operator supplying the VCEK: the bundle must carry it, so that a client needs nothing else.
let t: TestWorkload;
let requested: Uint8Array[];
let home: string;
before(async () => {
  const report = await vector("sev-snp/oak-genoa-oc/report.bin");
  home = await mkdtemp(join(tmpdir(), "cloister-snp-workload-"));
  const dir = join(home, "tsm", "report");
  const kernel = await fakeTsm(dir, { provider: "sev_guest", outblob: report });
  requested = kernel.inblobs;
  const vcek = await vector("sev-snp/oak-genoa-oc/vcek.der");
  t = await startTestWorkload({
    provider: await configfsTsmProvider({ root: dir, files: kernel.files }),
    collateral: async (provider) => {
      assert.equal(provider.platform, "sev-snp");
      return { [SNP_COLLATERAL.certificates]: vcek };
    },
  });
});
after(async () => {
  await t.close();
  await rm(home, { recursive: true, force: true });
});

test("the operator's certificates travel in the bundle and make the report verifiable", async () => {
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const response = await fetch(
    new URL(`${ATTESTATION_PATH}?nonce=${toHex(nonce)}`, t.workload.url),
  );
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  const bundle = parseBundle(body);
  assert.ok(bundle.collateral[SNP_COLLATERAL.certificates] instanceof Uint8Array);
  const now = new Date("2025-09-12T00:00:00Z");
  const authenticity = await verifyEvidence(bundle.evidence, {
    now,
    collateral: bundle.collateral,
  });
  assert.equal(authenticity.claims?.trustAnchor.name, "AMD ARK-Genoa");
  // The fake kernel returns a fixed report, so the manifest binding cannot hold: the one failure
  // left is the binding, which shows every other check, chain included, passed.
  const { result } = await verifyWorkload(bundle, { platforms: ["sev-snp"] }, { now, nonce });
  const failed = result.checks.filter((c) => c.status === "fail").map((c) => c.code);
  assert.deepEqual(failed, ["binding.report_data"]);
  // The guest asked the kernel for the manifest binding of this nonce.
  assert.equal(requested.at(-1)?.length, 64);
});
