import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type AttestationResult,
  attest,
  type Check,
  type CheckStatus,
  DEFAULT_POLICY,
  type Policy,
  verdictOf,
} from "@cloister/core";
import {
  INSTANCE_ID,
  MEASUREMENT,
  NOW,
  REPORT_DATA,
  type SimulatedSigner,
  simulatedSigner,
} from "./simulated-fixture.js";

const signer: SimulatedSigner = await simulatedSigner();

function policy(extra: Partial<Policy> = {}): Policy {
  return { platforms: ["simulated"], simulatedRoots: [signer.publicJwk], ...extra };
}

function status(result: AttestationResult, code: string): CheckStatus | undefined {
  return result.checks.find((c) => c.code === code)?.status;
}

test("an unpinned measurement is reported as skipped, never as passed", async () => {
  const result = await attest(await signer.sign(), policy(), { now: NOW });
  assert.equal(status(result, "policy.measurement"), "skip");
  assert.equal(result.verdict, "warning");
});

test("a pinned measurement passes, whatever the pin's letter case", async () => {
  for (const pin of [MEASUREMENT, MEASUREMENT.toUpperCase()]) {
    const result = await attest(
      await signer.sign(),
      policy({ measurements: ["ff".repeat(48), pin] }),
      {
        now: NOW,
      },
    );
    assert.equal(status(result, "policy.measurement"), "pass");
    assert.equal(result.verdict, "warning");
  }
});

test("a measurement the policy does not list fails", async () => {
  const result = await attest(await signer.sign(), policy({ measurements: ["ff".repeat(48)] }), {
    now: NOW,
  });
  assert.equal(status(result, "policy.measurement"), "fail");
  assert.equal(result.verdict, "contraindicated");
  // The claims are still there to show what was found.
  assert.equal(result.claims?.measurement, MEASUREMENT);
});

test("debug is refused by default and only warned about when the policy allows it", async () => {
  const debug = await signer.sign({ debug: true });
  const refused = await attest(debug, policy(), { now: NOW });
  assert.equal(status(refused, "policy.debug"), "fail");
  assert.equal(refused.verdict, "contraindicated");

  const allowed = await attest(debug, policy({ allowDebug: true }), { now: NOW });
  assert.equal(status(allowed, "policy.debug"), "warn");
  assert.equal(allowed.verdict, "warning");

  const off = await attest(await signer.sign(), policy(), { now: NOW });
  assert.equal(status(off, "policy.debug"), "pass");
});

test("a hardware identity pin passes for the pinned instance and fails for any other", async () => {
  const evidence = await signer.sign();
  const pinned = await attest(evidence, policy({ hardwareIds: [INSTANCE_ID.toUpperCase()] }), {
    now: NOW,
  });
  assert.equal(status(pinned, "policy.hardware_id"), "pass");
  const other = await attest(evidence, policy({ hardwareIds: ["00".repeat(32)] }), { now: NOW });
  assert.equal(status(other, "policy.hardware_id"), "fail");
  assert.equal(other.verdict, "contraindicated");
  const unpinned = await attest(evidence, policy(), { now: NOW });
  assert.equal(status(unpinned, "policy.hardware_id"), undefined);
});

test("the report data binding passes for the expected bytes and fails for others", async () => {
  const evidence = await signer.sign();
  const bound = await attest(evidence, policy(), { now: NOW, expectedReportData: REPORT_DATA });
  assert.equal(status(bound, "binding.report_data"), "pass");
  const other = new Uint8Array(REPORT_DATA);
  other[63] = (other[63] ?? 0) ^ 1;
  const unbound = await attest(evidence, policy(), { now: NOW, expectedReportData: other });
  assert.equal(status(unbound, "binding.report_data"), "fail");
  assert.equal(unbound.verdict, "contraindicated");
});

test("simulated evidence is never affirming, even with every pin satisfied", async () => {
  const result = await attest(
    await signer.sign(),
    policy({ measurements: [MEASUREMENT], hardwareIds: [INSTANCE_ID] }),
    { now: NOW, expectedReportData: REPORT_DATA },
  );
  assert.equal(status(result, "platform.simulated"), "warn");
  assert.equal(result.insecure, true);
  assert.equal(result.verdict, "warning");
  assert.deepEqual(
    result.checks.filter((c) => c.status !== "pass").map((c) => [c.code, c.status]),
    [["platform.simulated", "warn"]],
  );
});

test("a policy that allows simulated but pins no root cannot verify it", async () => {
  const result = await attest(await signer.sign(), { platforms: ["simulated"] }, { now: NOW });
  assert.equal(status(result, "evidence.trust_anchor"), "fail");
  assert.equal(result.verdict, "contraindicated");
});

test("roots pinned in a policy that does not allow simulated are not used", async () => {
  const result = await attest(
    await signer.sign(),
    { ...DEFAULT_POLICY, simulatedRoots: [signer.publicJwk] },
    { now: NOW },
  );
  assert.equal(status(result, "policy.platform"), "fail");
  assert.equal(status(result, "evidence.trust_anchor"), "fail");
  assert.equal(result.claims, undefined);
});

test("a platform without a verifier yet is contraindicated, not thrown", async () => {
  const result = await attest(
    { platform: "nvidia", format: "spdm-measurements", data: new Uint8Array(1024) },
    { platforms: ["nvidia"] },
    { now: NOW },
  );
  assert.equal(status(result, "policy.platform"), "pass");
  assert.equal(status(result, "evidence.platform_unsupported"), "fail");
  assert.equal(result.verdict, "contraindicated");
  assert.equal(result.insecure, false);
});

test("the verdict is the worst check: fail over warn over pass, and skips do not count", () => {
  const c = (s: CheckStatus): Check => ({ code: "x", status: s, message: "" });
  assert.equal(verdictOf([]), "affirming");
  assert.equal(verdictOf([c("pass"), c("skip")]), "affirming");
  assert.equal(verdictOf([c("pass"), c("warn"), c("skip")]), "warning");
  assert.equal(verdictOf([c("warn"), c("fail"), c("pass")]), "contraindicated");
  assert.equal(verdictOf([c("fail"), c("warn")]), "contraindicated");
});

test("checks keep their order: platform, authenticity, then appraisal", async () => {
  const result = await attest(
    await signer.sign(),
    policy({ measurements: [MEASUREMENT], hardwareIds: [INSTANCE_ID] }),
    { now: NOW, expectedReportData: REPORT_DATA },
  );
  assert.deepEqual(
    result.checks.map((c) => c.code),
    [
      "policy.platform",
      "evidence.trust_anchor",
      "evidence.signature",
      "platform.simulated",
      "policy.measurement",
      "policy.debug",
      "policy.hardware_id",
      "binding.report_data",
    ],
  );
  for (const check of result.checks) assert.match(check.message, /\S/);
});
