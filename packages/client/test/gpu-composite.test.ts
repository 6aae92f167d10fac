import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fetchAttestation } from "@cloister/client";
import {
  ATTESTATION_PATH,
  createSimulatedGpu,
  type GpuAttestation,
  type Policy,
  parseGpuEvidenceInput,
  toHex,
} from "@cloister/core";
import { TESTVECTORS } from "../../core/test/support/testvectors.js";
import { startTestWorkload, type TestWorkload } from "./support/workload.js";

// The CPU↔GPU binding end to end: a workload (simulated CPU TEE) with GPUs, and a caller that
// verifies the CPU evidence, then each GPU's evidence for the nonce derived from its own nonce
// and the workload's manifest, then that the CPU evidence commits to exactly this GPU set.
// The positive path uses simulated GPUs (nothing here has a confidential GPU); the relays and
// replays use real NVIDIA evidence from the vectors.

/** Eight real HOPPER evidences, each signed for the vector's own nonce. */
const REAL: GpuAttestation[] = parseGpuEvidenceInput(
  readFileSync(join(TESTVECTORS, "nvidia/nvtrust-ppcie-hgx/gpu_evidence.json"), "utf8"),
).map((input) => ({
  evidence: input.evidence,
  certificates: new TextEncoder().encode(input.certChain as string),
}));

let gpuRoots: string[];
let honest: TestWorkload;
let relayed: TestWorkload;

before(async () => {
  const gpus = [await createSimulatedGpu(), await createSimulatedGpu()];
  gpuRoots = gpus.map((gpu) => gpu.rootPem);
  honest = await startTestWorkload({
    engines: [],
    gpus: { collect: (nonce) => Promise.all(gpus.map((gpu) => gpu.collect(nonce))) },
  });
  // A workload whose GPU "driver" hands back evidence recorded elsewhere, for another nonce.
  relayed = await startTestWorkload({
    engines: [],
    gpus: { collect: async () => REAL.slice(0, 2) },
  });
});
after(async () => {
  await honest.close();
  await relayed.close();
});

function policyFor(t: TestWorkload, gpus?: number): Policy {
  return {
    ...t.policy,
    nvidia: {
      ...(gpus === undefined ? {} : { gpus }),
      simulatedRoots: gpuRoots,
      allowUnknownRevocation: true,
    },
  };
}

const failed = (r: { checks: readonly { status: string; code: string }[] }) =>
  r.checks.filter((c) => c.status === "fail").map((c) => c.code);

/** A relay between caller and workload that rewrites the bundle. */
function rewriting(edit: (bundle: { gpus?: unknown[] }) => void): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const bundle = (await response.json()) as { gpus?: unknown[] };
    edit(bundle);
    return new Response(JSON.stringify(bundle), {
      headers: { "content-type": "application/json" },
    });
  };
}

test("the caller accepts only when CPU evidence, every GPU and the binding hold", async () => {
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const { result } = await fetchAttestation(honest.workload.url, {
    policy: policyFor(honest, 2),
    nonce,
  });
  assert.deepEqual(failed(result), []);
  // Simulated CPU and simulated GPUs: accepted, never "affirming".
  assert.equal(result.verdict, "warning");
  assert.equal(result.gpus?.length, 2);
  for (const gpu of result.gpus ?? []) {
    assert.equal(gpu.claims?.architecture, "HOPPER");
    assert.ok(gpu.checks.some((c) => c.code === "nvidia.simulated" && c.status === "warn"));
  }
  assert.ok(result.checks.some((c) => c.code === "binding.report_data" && c.status === "pass"));
});

test("without the simulated GPU root pinned, the same GPUs are refused", async () => {
  const { result } = await fetchAttestation(honest.workload.url, {
    policy: { ...honest.policy, nvidia: { allowUnknownRevocation: true } },
    nonce: crypto.getRandomValues(new Uint8Array(32)),
  });
  assert.ok(failed(result).includes("nvidia.chain.untrusted_root"), failed(result).join());
});

test("real GPU evidence made for another nonce is refused, though it verifies to NVIDIA", async () => {
  const { result } = await fetchAttestation(relayed.workload.url, {
    policy: policyFor(relayed),
    nonce: crypto.getRandomValues(new Uint8Array(32)),
  });
  // The CPU evidence binds the set it was given: only the nonce gives the relay away.
  assert.deepEqual([...new Set(failed(result))], ["nvidia.nonce"]);
  assert.equal(result.gpus?.length, 2);
});

test("dropping a GPU breaks the binding (and the count)", async () => {
  const { result } = await fetchAttestation(honest.workload.url, {
    policy: policyFor(honest, 2),
    nonce: crypto.getRandomValues(new Uint8Array(32)),
    fetch: rewriting((bundle) => bundle.gpus?.pop()),
  });
  assert.deepEqual(failed(result).sort(), ["binding.report_data", "nvidia.gpus"]);
});

test("stripping every GPU breaks the binding", async () => {
  const { result } = await fetchAttestation(honest.workload.url, {
    policy: policyFor(honest),
    nonce: crypto.getRandomValues(new Uint8Array(32)),
    fetch: rewriting((bundle) => {
      delete bundle.gpus;
    }),
  });
  assert.deepEqual(failed(result), ["binding.report_data"]);
});

test("replaying an older GPU set into a fresh bundle is refused", async () => {
  const older = (await (
    await fetch(
      new URL(
        `${ATTESTATION_PATH}?nonce=${toHex(new Uint8Array(32).fill(1))}`,
        honest.workload.url,
      ),
    )
  ).json()) as { gpus: unknown[] };
  const { result } = await fetchAttestation(honest.workload.url, {
    policy: policyFor(honest, 2),
    nonce: crypto.getRandomValues(new Uint8Array(32)),
    fetch: rewriting((bundle) => {
      bundle.gpus = older.gpus;
    }),
  });
  assert.ok(failed(result).includes("binding.report_data"), failed(result).join());
  assert.ok(failed(result).includes("nvidia.nonce"), failed(result).join());
});

test("a policy that requires GPUs refuses a workload that shows none", async () => {
  const plain = await startTestWorkload({ engines: [] });
  try {
    const { result } = await fetchAttestation(plain.workload.url, {
      policy: policyFor(plain, 1),
      nonce: crypto.getRandomValues(new Uint8Array(32)),
    });
    assert.deepEqual(failed(result), ["nvidia.gpus"]);
    assert.equal(result.gpus, undefined);
  } finally {
    await plain.close();
  }
});

test("a policy that requires RIMs refuses GPUs whose measurements no RIM covers", async () => {
  const [missing, malformed] = await Promise.all([
    fetchAttestation(honest.workload.url, {
      policy: { ...policyFor(honest), nvidia: { ...policyFor(honest).nvidia, requireRims: true } },
      nonce: crypto.getRandomValues(new Uint8Array(32)),
    }),
    fetchAttestation(honest.workload.url, {
      policy: policyFor(honest),
      nonce: crypto.getRandomValues(new Uint8Array(32)),
      collateral: { nvidia_rims: "not a list" },
    }),
  ]);
  assert.deepEqual([...new Set(failed(missing.result))], ["nvidia.rim.missing"]);
  assert.deepEqual([...new Set(failed(malformed.result))], ["nvidia.rim.malformed"]);
});
