import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { fetchAttestation } from "@cloister/client";
import { NVIDIA_COLLATERAL, type Policy } from "@cloister/core";
import {
  type GpuPki,
  gpuEvidence,
  gpuPki,
  type OcspInput,
  ocspResponse,
} from "../../core/test/attest/pki/ocsp-support.js";
import { startTestWorkload, type TestWorkload } from "./support/workload.js";

// Revocation end to end: the workload carries NVIDIA's OCSP responses for its GPUs' chains as
// collateral (`nvidia_ocsp`), the caller's verifier checks them, and a caller may bring its own
// (which take precedence). Unknown revocation is refused by default.

let pki: GpuPki;
let workload: TestWorkload;
let bare: TestWorkload;

const b64 = (der: Uint8Array) => Buffer.from(der).toString("base64");

function caResponse(overrides: Partial<OcspInput> = {}): Promise<Uint8Array> {
  const now = Date.now();
  return ocspResponse({
    certificate: pki.ca.cert,
    issuer: pki.root.cert,
    signer: pki.root.keys,
    status: "good",
    thisUpdate: new Date(now - 3600_000),
    nextUpdate: new Date(now + 24 * 3600_000),
    ...overrides,
  });
}

before(async () => {
  pki = await gpuPki();
  const gpus = {
    collect: async (nonce: Uint8Array) => [
      {
        evidence: await gpuEvidence(pki, nonce.slice(0, 32)),
        certificates: new TextEncoder().encode(pki.chainPem),
        ccMode: "on" as const,
      },
    ],
  };
  const good = JSON.stringify([b64(await caResponse())]);
  workload = await startTestWorkload({
    engines: [],
    gpus,
    collateral: async () => ({ [NVIDIA_COLLATERAL.ocsp]: good }),
  });
  bare = await startTestWorkload({ engines: [], gpus });
});
after(async () => {
  await workload.close();
  await bare.close();
});

function policyFor(t: TestWorkload): Policy {
  return { ...t.policy, nvidia: { gpus: 1, simulatedRoots: [pki.root.cert.toString("pem")] } };
}

const failed = (r: { checks: readonly { status: string; code: string }[] }) =>
  r.checks.filter((c) => c.status === "fail").map((c) => c.code);

test("the workload's OCSP collateral makes revocation good, which the default policy accepts", async () => {
  const { result } = await fetchAttestation(workload.workload.url, {
    policy: policyFor(workload),
    nonce: crypto.getRandomValues(new Uint8Array(32)),
  });
  assert.deepEqual(failed(result), []);
  assert.equal(result.gpus?.[0]?.claims?.revocation, "good");
  assert.ok(result.checks.some((c) => c.code === "nvidia.revocation" && c.status === "pass"));
});

test("a revoked status the caller brings fails the GPU whatever the policy allows", async () => {
  const revoked = await caResponse({ status: "revoked", reason: "keyCompromise" });
  const { result } = await fetchAttestation(workload.workload.url, {
    policy: {
      ...policyFor(workload),
      nvidia: { ...policyFor(workload).nvidia, allowUnknownRevocation: true },
    },
    nonce: crypto.getRandomValues(new Uint8Array(32)),
    collateral: { [NVIDIA_COLLATERAL.ocsp]: JSON.stringify([b64(revoked)]) },
  });
  assert.deepEqual(failed(result), ["nvidia.revocation"]);
  assert.equal(result.gpus?.[0]?.verdict, "contraindicated");
});

test("without OCSP responses revocation is unknown and refused by default", async () => {
  const { result } = await fetchAttestation(bare.workload.url, {
    policy: policyFor(bare),
    nonce: crypto.getRandomValues(new Uint8Array(32)),
  });
  assert.deepEqual(failed(result), ["nvidia.policy.revocation"]);
  assert.equal(result.gpus?.[0]?.claims?.revocation, "unknown");
});
