import assert from "node:assert/strict";
import { test } from "node:test";
import {
  encodeBundle,
  type GpuAttestation,
  gpuNonce,
  gpuSetDigest,
  manifestReportData,
  parseBundle,
  parsePolicy,
} from "@cloister/core";

const manifest = { schema: "cloister/manifest/v1", models: [] };
const gpu = (fill: number, ccMode?: GpuAttestation["ccMode"]): GpuAttestation => ({
  evidence: new Uint8Array(8).fill(fill),
  certificates: new Uint8Array(4).fill(fill),
  ...(ccMode === undefined ? {} : { ccMode }),
});

test("the GPU nonce depends on the caller's nonce and on the workload's manifest", async () => {
  const n = new Uint8Array(32).fill(1);
  const a = await gpuNonce(manifest, n);
  assert.equal(a.length, 32);
  assert.notDeepEqual(a, await gpuNonce(manifest, new Uint8Array(32).fill(2)));
  assert.notDeepEqual(a, await gpuNonce({ ...manifest, code: "other" }, n));
  assert.notDeepEqual(a, await gpuNonce(manifest));
});

test("the GPU set digest covers order, every field and the set's size", async () => {
  const base = await gpuSetDigest([gpu(1), gpu(2)]);
  for (const other of [
    [gpu(2), gpu(1)],
    [gpu(1)],
    [gpu(1), gpu(2), gpu(3)],
    [gpu(1), gpu(2, "on")],
    [gpu(1), { ...gpu(2), certificates: new Uint8Array(4).fill(9) }],
  ]) {
    assert.notDeepEqual(await gpuSetDigest(other), base);
  }
  // Length prefixes: moving a byte from the evidence into the certificates changes the digest.
  const split = await gpuSetDigest([
    { evidence: new Uint8Array([1, 1]), certificates: new Uint8Array([1]) },
  ]);
  const moved = await gpuSetDigest([
    { evidence: new Uint8Array([1]), certificates: new Uint8Array([1, 1]) },
  ]);
  assert.notDeepEqual(split, moved);
});

test("report data with GPUs differs from every GPU-less form, whatever the nonce", async () => {
  const nonce = new Uint8Array(32).fill(7);
  const gpus = [gpu(1)];
  const withGpus = await manifestReportData(manifest, nonce, gpus);
  const digest = await gpuSetDigest(gpus);
  // A nonce crafted to carry the set's digest does not reproduce the GPU form.
  const crafted = new Uint8Array([...digest, ...nonce]);
  assert.notDeepEqual(await manifestReportData(manifest, crafted), withGpus);
  assert.notDeepEqual(await manifestReportData(manifest, nonce), withGpus);
  // An empty set is a set: still the GPU form.
  assert.notDeepEqual(
    await manifestReportData(manifest, nonce, []),
    await manifestReportData(manifest, nonce),
  );
});

test("bundles carry GPUs through JSON, and malformed GPU entries are refused by name", () => {
  const bundle = {
    evidence: { platform: "simulated" as const, format: "x", data: new Uint8Array([1]) },
    collateral: {},
    manifest,
    gpus: [gpu(1, "on"), gpu(2)],
  };
  const parsed = parseBundle(JSON.parse(JSON.stringify(encodeBundle(bundle))));
  assert.deepEqual(parsed.gpus, bundle.gpus);
  for (const [gpus, field] of [
    ["x", "bundle.gpus"],
    [[{ evidence: "!!", certificates: "" }], "bundle.gpus[0].evidence"],
    [[{ evidence: "AA", certificates: "AA", ccMode: "maybe" }], "bundle.gpus[0].ccMode"],
  ] as const) {
    assert.throws(
      () => parseBundle({ ...encodeBundle(bundle), gpus }),
      (e: unknown) => (e as { field?: string }).field === field,
      field,
    );
  }
});

test("the nvidia policy section is parsed strictly", () => {
  const policy = parsePolicy({
    platforms: ["sev-snp"],
    nvidia: {
      gpus: 8,
      architectures: ["HOPPER"],
      minimumDriverVersion: "550.90.07",
      minimumVbiosVersion: "96.00.9F.00.01",
      deviceIds: ["ABCD"],
      measurements: { "3": ["AA"] },
      requireRims: true,
      allowUnknownRevocation: false,
    },
  });
  assert.equal(policy.nvidia?.gpus, 8);
  assert.deepEqual(policy.nvidia?.deviceIds, ["abcd"]);
  assert.deepEqual(policy.nvidia?.measurements, { 3: ["aa"] });
  for (const nvidia of [
    { gpu: 1 },
    { gpus: -1 },
    { architectures: ["AMPERE"] },
    { minimumDriverVersion: "latest" },
    { ccMode: "off" },
    { measurements: { x: ["aa"] } },
    { simulatedRoots: ["not pem"] },
    { requireRims: "yes" },
  ]) {
    assert.throws(
      () => parsePolicy({ nvidia }),
      (e: unknown) => (e as { code?: string }).code === "policy.invalid",
      JSON.stringify(nvidia),
    );
  }
});
