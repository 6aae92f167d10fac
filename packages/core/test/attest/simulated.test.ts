import assert from "node:assert/strict";
import { test } from "node:test";
import {
  attest,
  type Evidence,
  ParseError,
  type Policy,
  parseSimulatedEvidence,
  toBase64Url,
  utf8,
} from "@cloister/core";
import { CompactSign, generateKeyPair } from "jose";
import { NOW, simulatedSigner } from "./simulated-fixture.js";

const signer = await simulatedSigner();
const policy: Policy = { platforms: ["simulated"], simulatedRoots: [signer.publicJwk] };

async function failures(evidence: Evidence): Promise<string[]> {
  const result = await attest(evidence, policy, { now: NOW });
  assert.equal(result.verdict, "contraindicated");
  return result.checks.filter((c) => c.status === "fail").map((c) => c.code);
}

test("a valid report parses to its fields", async () => {
  const parsed = parseSimulatedEvidence((await signer.sign()).data);
  assert.equal(parsed.header.kid, signer.id);
  assert.equal(parsed.report.v, 1);
  assert.equal(parsed.report.debug, false);
});

test("parse errors name the field that is wrong", async () => {
  const cases: [Partial<Record<string, unknown>>, string][] = [
    [{ v: 2 }, "simulated report.v"],
    [{ platform: "tdx" }, "simulated report.platform"],
    [{ measurement: "A1".repeat(48) }, "simulated report.measurement"],
    [{ measurement: "a1".repeat(32) }, "simulated report.measurement"],
    [{ report_data: "00".repeat(32) }, "simulated report.report_data"],
    [{ debug: "no" }, "simulated report.debug"],
    [{ instance_id: "zz".repeat(32) }, "simulated report.instance_id"],
    [{ iat: -1 }, "simulated report.iat"],
    [{ iat: 1.5 }, "simulated report.iat"],
  ];
  for (const [report, field] of cases) {
    const evidence = await signer.sign(report);
    assert.throws(
      () => parseSimulatedEvidence(evidence.data),
      (error) => {
        assert.ok(error instanceof ParseError);
        assert.equal(error.code, "evidence.parse");
        assert.equal(error.field, field);
        return true;
      },
    );
    assert.deepEqual(await failures(evidence), ["evidence.parse"]);
  }
});

test("headers other than ES384, the simulated typ and a kid are refused", async () => {
  assert.deepEqual(await failures(await signer.sign({}, { typ: "JWT" })), ["evidence.parse"]);
  assert.deepEqual(await failures(await signer.sign({}, { kid: "" })), ["evidence.parse"]);
  // Signed by a P-256 key under the pinned root's kid: the algorithm alone rules it out.
  const { privateKey } = await generateKeyPair("ES256");
  const es256 = await new CompactSign(utf8("{}"))
    .setProtectedHeader({ alg: "ES256", typ: "cloister-simulated-evidence+jws", kid: signer.id })
    .sign(privateKey);
  assert.deepEqual(
    await failures({ platform: "simulated", format: "simulated-jws", data: utf8(es256) }),
    ["evidence.parse"],
  );
});

test("an unsigned token (alg none) is refused", async () => {
  const valid = new TextDecoder().decode((await signer.sign()).data);
  const payload = valid.split(".")[1] as string;
  const header = toBase64Url(
    utf8(JSON.stringify({ alg: "none", typ: "cloister-simulated-evidence+jws", kid: signer.id })),
  );
  const data = utf8(`${header}.${payload}.`);
  assert.deepEqual(await failures({ platform: "simulated", format: "simulated-jws", data }), [
    "evidence.parse",
  ]);
});

test("a signature by another key under the pinned root's kid fails the signature check", async () => {
  const impostor = await simulatedSigner();
  const forged = await impostor.sign({}, { kid: signer.id });
  assert.deepEqual(await failures(forged), ["evidence.signature"]);
});

test("evidence in another format is refused before parsing", async () => {
  const evidence = await signer.sign();
  assert.deepEqual(await failures({ ...evidence, format: "snp-report" }), ["evidence.format"]);
});

test("surrounding whitespace, as from a file, does not matter", async () => {
  const evidence = await signer.sign();
  const padded = utf8(`  ${new TextDecoder().decode(evidence.data)}\n`);
  const result = await attest({ ...evidence, data: padded }, policy, { now: NOW });
  assert.equal(result.verdict, "warning");
});

test("a malformed root in the policy is a failed check, not an exception", async () => {
  const result = await attest(
    await signer.sign(),
    { platforms: ["simulated"], simulatedRoots: [{ kty: "EC", crv: "P-384" }, signer.publicJwk] },
    { now: NOW },
  );
  assert.equal(result.verdict, "contraindicated");
  assert.deepEqual(
    result.checks.filter((c) => c.status === "fail").map((c) => c.code),
    ["policy.simulated_root"],
  );
});
