import assert from "node:assert/strict";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { fromHex, parseGpuEvidence, toHex, verifyGpuEvidence } from "@cloister/core";
import { TESTVECTORS, vectorEntry } from "../../../../core/test/support/testvectors.js";
import {
  describeGpus,
  detectGpus,
  type GpuEvidenceProvider,
  parseNvattestOutput,
} from "../../../src/tee/index.js";
import { fakeProcTree, fakeTool, h100s, smiAnswers, workDir } from "./fake-gpu.js";

const PPCIE = vectorEntry("nvidia/nvtrust-ppcie-hgx");
const NONCE_HEX = /nonce ([0-9a-f]{64})/.exec(PPCIE.expected)?.[1] ?? "";
const NONCE = fromHex(NONCE_HEX) ?? new Uint8Array();
/** The corpus was collected on 2026-04-20; the NVIDIA device certificates are valid then. */
const NOW = new Date("2026-04-20T00:00:00Z");
const COLLECT = "collect-evidence --device gpu --nonce";

async function vectorEvidences(): Promise<unknown[]> {
  const path = PPCIE.files.gpus;
  assert.ok(path !== undefined);
  return JSON.parse(await readFile(join(TESTVECTORS, path), "utf8")) as unknown[];
}

/** What `nvattest collect-evidence` prints in JSON format (nlohmann's dump(4)). */
function nvattestJson(evidences: unknown, resultCode = 0, message = "Ok"): string {
  return `${JSON.stringify({ evidences, result_code: resultCode, result_message: message }, null, 4)}\n`;
}

async function machine(gpus: number, nvattest: Parameters<typeof fakeTool>[2]) {
  const { root, bin } = await workDir();
  await fakeProcTree(root, h100s(gpus));
  const smi = await fakeTool(bin, "nvidia-smi", smiAnswers("ON", "OFF", "not-ready"));
  const attest = await fakeTool(bin, "nvattest", nvattest);
  const options = {
    root,
    tools: { nvidiaSmi: smi.path, nvattest: attest.path },
    env: { PATH: "/usr/bin:/bin" },
  };
  return { root, bin, smi, attest, options };
}

async function provider(options: Parameters<typeof detectGpus>[0]): Promise<GpuEvidenceProvider> {
  const found = await detectGpus(options);
  assert.ok(found !== undefined, "a provider is detected");
  return found;
}

test("the index entry names the nonce the PPCIe evidence was collected over", () => {
  assert.equal(NONCE.length, 32);
  assert.equal(NONCE_HEX, "4760e30534a0621357d458b1a7936551b5dc4cd1e69718adf7ed9fb0252a537e");
});

test("nvattest's real 8-GPU evidence becomes GpuAttestations that core verifies", async () => {
  const m = await machine(8, {
    [`${COLLECT} ${NONCE_HEX}`]: { stdout: nvattestJson(await vectorEvidences()) },
  });
  const gpus = await provider(m.options);
  assert.equal(gpus.count, 8);
  assert.equal(gpus.description, "nvattest (8 GPUs, CC on)");

  const attestations = await gpus.collect(NONCE);
  assert.equal(attestations.length, 8);
  for (const attestation of attestations) {
    const result = await verifyGpuEvidence(
      parseGpuEvidence(attestation.evidence),
      attestation.certificates,
      {
        now: NOW,
        nonce: NONCE,
      },
    );
    const failed = result.checks.filter((c) => c.status === "fail");
    assert.deepEqual(failed, []);
    assert.ok(result.claims !== undefined);
  }
  // The tool was asked for exactly this nonce, in JSON, with no shell in between.
  assert.deepEqual(await m.attest.calls(), [`${COLLECT} ${NONCE_HEX} NVAT_FORMAT=json`]);
});

test("evidence over another nonce than the one asked for is refused", async () => {
  const other = new Uint8Array(32).fill(0x5a);
  const m = await machine(8, {
    [`${COLLECT} *`]: { stdout: nvattestJson(await vectorEvidences()) },
  });
  const gpus = await provider(m.options);
  await assert.rejects(gpus.collect(other), { code: "gpu.provider.nonce_mismatch" });
  assert.deepEqual(await m.attest.calls(), [`${COLLECT} ${toHex(other)} NVAT_FORMAT=json`]);
  await assert.rejects(gpus.collect(new Uint8Array(31)), { code: "gpu.provider.nonce" });
  assert.equal((await m.attest.calls()).length, 1, "a bad nonce never reaches the tool");
});

test("a GPU missing from the evidence is refused", async () => {
  const m = await machine(2, {
    [`${COLLECT} *`]: { stdout: nvattestJson(await vectorEvidences()) },
  });
  const gpus = await provider(m.options);
  assert.equal(gpus.count, 2);
  await assert.rejects(gpus.collect(NONCE), { code: "gpu.provider.count_mismatch" });
});

test("a failing, hanging or garbling nvattest gives a typed error", async () => {
  const cases: [Parameters<typeof fakeTool>[2][string], string, RegExp][] = [
    [
      { stdout: nvattestJson(null, 6, "NVML error"), exitCode: 6 },
      "gpu.provider.collection_failed",
      /result code 6 \(NVML error\)/,
    ],
    [
      { stderr: "libnvidia-ml.so.1: cannot open shared object file\n", exitCode: 127 },
      "gpu.provider.tool_failed",
      /status 127.*libnvidia-ml/,
    ],
    [{ stdout: "Segmentation fault\n" }, "gpu.provider.output", /not print a JSON document/],
    [{ stdout: nvattestJson([]) }, "gpu.provider.output", /no non-empty evidences/],
    [
      { stdout: nvattestJson([{ evidence: "!!", certificate: "LS0t" }]) },
      "gpu.provider.output",
      /malformed: evidence 1 evidence/,
    ],
    [
      { stdout: nvattestJson([{ evidence: "EeAB/w==", certificate: "LS0t" }]) },
      "gpu.provider.output",
      /not an SPDM transcript/,
    ],
    [{ hang: true }, "gpu.provider.timeout", /did not finish within 300 ms/],
  ];
  for (const [answer, code, message] of cases) {
    const m = await machine(1, { [`${COLLECT} *`]: answer });
    const gpus = await provider({ ...m.options, timeoutMs: 300 });
    await assert.rejects(gpus.collect(NONCE), (error: unknown) => {
      assert.equal((error as { code?: string }).code, code);
      assert.match((error as Error).message, message);
      return true;
    });
  }
});

test("a bare evidence array (the SDK's own serialisation) is read too", async () => {
  const evidences = await vectorEvidences();
  const attestations = parseNvattestOutput(JSON.stringify(evidences));
  assert.equal(attestations.length, 8);
  assert.match(
    new TextDecoder().decode(attestations[0]?.certificates),
    /^-----BEGIN CERTIFICATE-----/,
  );
});

test("doctor's trial collection reports success when the tool answers the random nonce", async () => {
  const [first] = await vectorEvidences();
  const { root, bin } = await workDir();
  await fakeProcTree(root, h100s(1));
  const smi = await fakeTool(bin, "nvidia-smi", smiAnswers("ON", "OFF", "ready"));
  // Echoes the asked nonce into the real evidence's SPDM request, as a live GPU would sign it.
  const template = join(bin, "evidence.json");
  await writeFile(template, JSON.stringify(first));
  const nvattest = join(bin, "nvattest");
  await writeFile(
    nvattest,
    `#!${process.execPath}
const fs = require("node:fs");
const nonce = process.argv[process.argv.indexOf("--nonce") + 1];
const evidence = JSON.parse(fs.readFileSync(${JSON.stringify(template)}, "utf8"));
const bytes = Buffer.from(evidence.evidence, "base64");
Buffer.from(nonce, "hex").copy(bytes, 4);
evidence.evidence = bytes.toString("base64");
process.stdout.write(JSON.stringify({ evidences: [evidence], result_code: 0, result_message: "Ok" }));
`,
  );
  await chmod(nvattest, 0o755);
  const report = await describeGpus({ root, tools: { nvidiaSmi: smi.path, nvattest }, env: {} });
  assert.deepEqual(report.collection, { status: "ok", count: 1 });
  assert.equal(report.provider, "nvattest (1 GPU, CC on)");
  assert.equal(report.ccMode, "on");
  assert.equal(report.readyState, "ready");
  assert.deepEqual(report.hints, []);
});
