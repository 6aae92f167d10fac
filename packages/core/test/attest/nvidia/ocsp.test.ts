import assert from "node:assert/strict";
import { before, test } from "node:test";
import {
  appraiseGpu,
  type GpuVerification,
  NVIDIA_COLLATERAL,
  parseGpuEvidence,
  verifyGpuEvidence,
  verifyGpuSet,
} from "../../../src/index.js";
import {
  type GpuPki,
  gpuEvidence,
  gpuPki,
  issue,
  OCSP_SIGNING,
  type OcspInput,
  ocspResponse,
} from "../pki/ocsp-support.js";

// Revocation of a GPU's chain from OCSP responses the caller supplies: good passes, revoked
// fails outright, and anything short of an authentic, current "good" for every certificate
// NVIDIA's responder covers leaves revocation unknown, which the policy refuses by default.

const NOW = new Date("2026-06-01T12:00:00Z");
const HOUR = 3600_000;
const NONCE = new Uint8Array(32).fill(0x5a);

let pki: GpuPki;
let evidence: Uint8Array;

before(async () => {
  pki = await gpuPki();
  evidence = await gpuEvidence(pki, NONCE);
});

/** A response about the device identity CA (certificate 2), signed by the root by default. */
function caResponse(overrides: Partial<OcspInput> = {}): Promise<Uint8Array> {
  return ocspResponse({
    certificate: pki.ca.cert,
    issuer: pki.root.cert,
    signer: pki.root.keys,
    status: "good",
    thisUpdate: new Date(NOW.getTime() - HOUR),
    nextUpdate: new Date(NOW.getTime() + 24 * HOUR),
    ...overrides,
  });
}

function leafResponse(overrides: Partial<OcspInput> = {}): Promise<Uint8Array> {
  return caResponse({
    certificate: pki.leaf.cert,
    issuer: pki.ca.cert,
    signer: pki.ca.keys,
    ...overrides,
  });
}

function verify(ocsp?: readonly Uint8Array[]): Promise<GpuVerification> {
  return verifyGpuEvidence(parseGpuEvidence(evidence), pki.chainPem, {
    now: NOW,
    nonce: NONCE,
    simulatedRoots: [pki.root.cert.toString("pem")],
    ...(ocsp === undefined ? {} : { ocsp }),
  });
}

function revocation(result: GpuVerification) {
  const check = result.checks.find((c) => c.code === "nvidia.revocation");
  assert.ok(check, "no nvidia.revocation check");
  return check;
}

function policyRevocation(result: GpuVerification, allowUnknownRevocation?: boolean) {
  assert.ok(result.claims);
  return appraiseGpu(result.claims, {
    ccMode: "attested elsewhere",
    ...(allowUnknownRevocation ? { allowUnknownRevocation } : {}),
  }).find((c) => c.code === "nvidia.policy.revocation")?.status;
}

test("without OCSP responses revocation is unknown, and the policy refuses it by default", async () => {
  const result = await verify();
  assert.equal(revocation(result).status, "warn");
  assert.match(revocation(result).message, /No OCSP response was checked/);
  assert.equal(result.claims?.revocation, "unknown");
  assert.equal(policyRevocation(result), "fail");
  assert.equal(policyRevocation(result, true), "skip");
});

test("a good status for the device identity CA is enough for a GPU (its leaf is the GPU's own)", async () => {
  const result = await verify([await caResponse()]);
  assert.equal(revocation(result).status, "pass", revocation(result).message);
  assert.match(revocation(result).message, /good at 2026-06-01T12:00:00.000Z/);
  assert.equal(result.claims?.revocation, "good");
  assert.equal(policyRevocation(result), "pass");
});

test("a good status for every certificate, in any order, among junk, passes", async () => {
  const result = await verify([
    Uint8Array.of(1, 2, 3),
    await leafResponse(),
    await caResponse({ hash: "SHA-1" }),
  ]);
  assert.equal(revocation(result).status, "pass", revocation(result).message);
  assert.match(revocation(result).message, /certificate 1 .*certificate 2/);
  assert.equal(result.claims?.revocation, "good");
});

test("NVIDIA's shape: a delegated responder, included in the response, signs", async () => {
  const responder = await issue({
    cn: "Test OCSP Responder",
    issuer: pki.root,
    eku: [OCSP_SIGNING],
  });
  const result = await verify([
    await caResponse({ signer: responder.keys, signerCert: responder.cert }),
  ]);
  assert.equal(revocation(result).status, "pass", revocation(result).message);
});

test("a delegated responder without the OCSP-signing EKU leaves revocation unknown", async () => {
  const responder = await issue({ cn: "Not A Responder", issuer: pki.root });
  const result = await verify([
    await caResponse({ signer: responder.keys, signerCert: responder.cert }),
  ]);
  assert.equal(revocation(result).status, "warn");
  assert.match(
    revocation(result).message,
    /certificate 2 "GH100 A01 GSP BROM": ocsp\.responder_unauthorized/,
  );
  assert.equal(result.claims?.revocation, "unknown");
});

test("a revoked device identity CA fails, naming it, the date and the reason", async () => {
  const revokedAt = new Date("2026-05-20T08:00:00Z");
  const result = await verify([
    await caResponse({ status: "revoked", revokedAt, reason: "keyCompromise" }),
  ]);
  const check = revocation(result);
  assert.equal(check.status, "fail");
  assert.match(
    check.message,
    /certificate 2 "GH100 A01 GSP BROM" was revoked at 2026-05-20T08:00:00.000Z \(keyCompromise\)/,
  );
  assert.equal(result.claims, undefined);
});

test("a revocation outweighs a good response for the same certificate", async () => {
  const result = await verify([
    await caResponse(),
    await caResponse({ status: "revoked", revokedAt: new Date(NOW.getTime() - 2 * HOUR) }),
  ]);
  assert.equal(revocation(result).status, "fail");
});

test("a revoked leaf fails when a response for it is supplied", async () => {
  const result = await verify([
    await caResponse(),
    await leafResponse({ status: "revoked", reason: "superseded" }),
  ]);
  assert.equal(revocation(result).status, "fail");
  assert.match(revocation(result).message, /certificate 1 "GH100 A01 GSP FMC LF".*superseded/);
});

for (const [name, overrides, code] of [
  ["stale", { nextUpdate: new Date(NOW.getTime() - 1) }, "ocsp.stale"],
  ["from the future", { thisUpdate: new Date(NOW.getTime() + HOUR) }, "ocsp.not_yet_valid"],
  ["unknown to the responder", { status: "unknown" }, "does not know it"],
  ["for another serial", { serial: "0badc0de" }, "no OCSP response names it"],
] as const) {
  test(`a response ${name} leaves revocation unknown, naming the certificate`, async () => {
    const result = await verify([await caResponse(overrides as Partial<OcspInput>)]);
    const check = revocation(result);
    assert.equal(check.status, "warn");
    assert.ok(check.message.includes(`certificate 2 "GH100 A01 GSP BROM": `), check.message);
    assert.ok(check.message.includes(code), check.message);
    assert.equal(result.claims?.revocation, "unknown");
    assert.equal(policyRevocation(result), "fail");
  });
}

test("a response signed by an unrelated key leaves revocation unknown", async () => {
  const stranger = await issue({ cn: "Stranger", ca: true });
  const result = await verify([await caResponse({ signer: stranger.keys })]);
  assert.equal(revocation(result).status, "warn");
  assert.match(revocation(result).message, /ocsp\.signature/);
});

test("a stale response for the supplied leaf makes revocation unknown", async () => {
  const result = await verify([
    await caResponse(),
    await leafResponse({ nextUpdate: new Date(NOW.getTime() - HOUR) }),
  ]);
  assert.equal(revocation(result).status, "warn");
  assert.match(revocation(result).message, /certificate 1 .*ocsp\.stale/);
});

test("the policy fails a revoked claim whatever it allows", async () => {
  const result = await verify([await caResponse()]);
  assert.ok(result.claims);
  const checks = appraiseGpu(
    { ...result.claims, revocation: "revoked" },
    { ccMode: "attested elsewhere", allowUnknownRevocation: true },
  );
  assert.equal(checks.find((c) => c.code === "nvidia.policy.revocation")?.status, "fail");
});

test("verifyGpuSet reads the responses from the nvidia_ocsp collateral", async () => {
  const manifest = { test: "ocsp" };
  const { gpuNonce } = await import("../../../src/attest/nvidia/binding.js");
  const nonce = await gpuNonce(manifest, undefined);
  const gpu = {
    evidence: await gpuEvidence(pki, nonce),
    certificates: new TextEncoder().encode(pki.chainPem),
    ccMode: "on" as const,
  };
  const policy = { simulatedRoots: [pki.root.cert.toString("pem")] };
  const run = (collateral?: Record<string, string>) =>
    verifyGpuSet([gpu], { manifest, now: NOW, policy, ...(collateral ? { collateral } : {}) });
  const b64 = (der: Uint8Array) => Buffer.from(der).toString("base64");

  const good = await run({ [NVIDIA_COLLATERAL.ocsp]: JSON.stringify([b64(await caResponse())]) });
  assert.equal(good.results[0]?.claims?.revocation, "good");
  assert.equal(good.checks.find((c) => c.code === "nvidia.policy.revocation")?.status, "pass");

  const revoked = await run({
    [NVIDIA_COLLATERAL.ocsp]: JSON.stringify([b64(await caResponse({ status: "revoked" }))]),
  });
  assert.equal(revoked.results[0]?.verdict, "contraindicated");
  assert.equal(revoked.checks.find((c) => c.code === "nvidia.revocation")?.status, "fail");

  const none = await run();
  assert.equal(none.checks.find((c) => c.code === "nvidia.policy.revocation")?.status, "fail");

  for (const bad of ["{}", "[1]", '["not base64!"]', "nope"]) {
    const malformed = await run({ [NVIDIA_COLLATERAL.ocsp]: bad });
    assert.equal(malformed.checks.find((c) => c.code === "nvidia.ocsp.malformed")?.status, "fail");
  }
});
