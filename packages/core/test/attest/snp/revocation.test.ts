import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { attest, SNP_COLLATERAL, verifyEvidence } from "@cloister/core";
import { TESTVECTORS } from "../../support/testvectors.js";

const read = (path: string) => new Uint8Array(readFileSync(join(TESTVECTORS, path)));
const evidence = {
  platform: "sev-snp" as const,
  format: "snp-report",
  data: read("sev-snp/oak-genoa-oc/report.bin"),
};
const now = new Date("2025-09-12T00:00:00Z");
const certificates = read("sev-snp/oak-genoa-oc/vcek.der");

test("without a CRL, revocation is reported unknown and the report stays authentic", async () => {
  const result = await verifyEvidence(evidence, { now, collateral: { certificates } });
  const revocation = result.checks.find((c) => c.code === "snp.revocation");
  assert.equal(revocation?.status, "skip");
  assert.match(revocation?.message ?? "", /unknown/i);
  assert.equal(result.claims?.platformClaims.revocation, "unknown");
});

test("a CRL that AMD did not issue makes the evidence unauthentic: no claims are handed on", async () => {
  // A real CRL, but Intel's: its issuer is not the Genoa ARK.
  const crl = read("tdx/automata-pcs-certs/Intel_SGX_Root_CA_crl_2025-03.der");
  const collateral = { certificates, [SNP_COLLATERAL.crl]: crl };
  const authenticity = await verifyEvidence(evidence, { now, collateral });
  assert.equal(authenticity.claims, undefined);
  const failed = authenticity.checks.filter((c) => c.status === "fail").map((c) => c.code);
  assert.deepEqual(failed, ["snp.crl.issuer"]);
  const result = await attest(evidence, { platforms: ["sev-snp"] }, { now, collateral });
  assert.equal(result.verdict, "contraindicated");
  assert.equal(result.claims, undefined);
});
