import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import {
  describeGpus,
  describeTeeInterfaces,
  detectGpus,
  parseCcStatus,
  parseDevToolsMode,
  parseQueryGpus,
  parseReadyState,
  readProcDriverVersion,
  readProcGpus,
} from "../../../src/tee/index.js";
import { fakeProcTree, fakeTool, h100s, smiAnswers, workDir } from "./fake-gpu.js";

test("with no GPU, driver or tools there is no provider, and doctor says why", async () => {
  const { root, bin } = await workDir();
  const options = {
    root,
    tools: { nvidiaSmi: join(bin, "nvidia-smi"), nvattest: join(bin, "nvattest") },
    env: {},
  };
  assert.equal(await detectGpus(options), undefined);
  const report = await describeGpus(options);
  assert.deepEqual(report.gpus, []);
  assert.deepEqual(report.tools, {});
  assert.equal(report.ccMode, "unknown");
  assert.equal(report.provider, undefined);
  assert.match(
    report.problem ?? "",
    /^No NVIDIA GPU found \(nothing in .*proc\/driver\/nvidia\/gpus, no nvidia-smi\)$/,
  );
  assert.equal(report.collection.status, "skipped");

  const dir = join(root, "elsewhere");
  const all = await describeTeeInterfaces({
    configfsRoot: join(dir, "tsm"),
    gramineRoot: join(dir, "attestation"),
    configDir: join(dir, "config"),
    gpus: options,
  });
  assert.deepEqual(all.gpus, report);
});

test("an empty PATH finds no tools, and a PATH entry that is relative is never searched", async () => {
  const { root, bin } = await workDir();
  await fakeProcTree(root, h100s(1));
  await fakeTool(bin, "nvidia-smi", smiAnswers("ON", "OFF", "ready"));
  const report = await describeGpus({ root, env: { PATH: "relative/bin" } });
  assert.equal(report.gpus.length, 1);
  assert.deepEqual(report.tools, {});
  assert.match(report.problem ?? "", /nvidia-smi was not found/);
  const found = await describeGpus({ root, env: { PATH: `relative/bin:${bin}` } });
  assert.equal(found.tools.nvidiaSmi, join(bin, "nvidia-smi"));
  assert.equal(found.ccMode, "on");
});

test("GPUs in CC off mode give no provider and a hint on switching the host", async () => {
  const { root, bin } = await workDir();
  await fakeProcTree(root, h100s(2), "550.90.07");
  const smi = await fakeTool(bin, "nvidia-smi", smiAnswers("OFF", "OFF", "not-ready"));
  const nvattest = await fakeTool(bin, "nvattest", {});
  const options = { root, tools: { nvidiaSmi: smi.path, nvattest: nvattest.path }, env: {} };
  assert.equal(await detectGpus(options), undefined);
  const report = await describeGpus(options);
  assert.deepEqual(
    report.gpus.map((g) => [g.busId, g.name]),
    [
      ["0000:18:00.0", "NVIDIA H100 80GB HBM3"],
      ["0000:28:00.0", "NVIDIA H100 80GB HBM3"],
    ],
  );
  assert.equal(report.driverVersion, "550.90.07");
  assert.equal(report.ccMode, "off");
  assert.equal(report.readyState, "not-ready");
  assert.equal(report.problem, "The GPUs' CC mode is off");
  assert.equal(report.hints.length, 1);
  assert.match(report.hints[0] ?? "", /--set-cc-mode=on/);
  // CC off needs no DevTools query (once for detectGpus, once for describeGpus), and nvattest
  // is never run.
  const probe = ["conf-compute -f NVAT_FORMAT=", "conf-compute -grs NVAT_FORMAT="];
  assert.deepEqual(await smi.calls(), [...probe, ...probe]);
  assert.deepEqual(await nvattest.calls(), []);
});

test("DevTools mode, a not-ready GPU and a missing nvattest are each explained", async () => {
  const { root, bin } = await workDir();
  await fakeProcTree(root, h100s(1));
  const smi = await fakeTool(bin, "nvidia-smi", smiAnswers("ON", "ON", "not-ready"));
  const options = {
    root,
    tools: { nvidiaSmi: smi.path, nvattest: join(bin, "nvattest") },
    env: {},
  };
  assert.equal(await detectGpus(options), undefined);
  const report = await describeGpus(options);
  assert.equal(report.ccMode, "devtools");
  assert.equal(report.problem, "nvattest was not found");
  assert.equal(report.hints.length, 3);
  assert.match(report.hints.join("\n"), /debug paths are open/);
  assert.match(report.hints.join("\n"), /conf-compute -srs 1/);
  assert.match(report.hints.join("\n"), /Install NVIDIA's Attestation CLI/);
});

test("a failing or hanging nvidia-smi leaves the CC mode unknown, with the reason", async () => {
  const { root, bin } = await workDir();
  await fakeProcTree(root, h100s(1));
  const failing = await fakeTool(bin, "nvidia-smi", {
    "conf-compute -f": {
      stdout: "Failed to initialize NVML: Driver/library version mismatch\n",
      exitCode: 18,
    },
    "conf-compute -grs": { hang: true },
  });
  const nvattest = await fakeTool(bin, "nvattest", {});
  const options = {
    root,
    tools: { nvidiaSmi: failing.path, nvattest: nvattest.path },
    env: {},
    timeoutMs: 300,
  };
  assert.equal(await detectGpus(options), undefined);
  const report = await describeGpus(options);
  assert.equal(report.ccMode, "unknown");
  assert.equal(report.readyState, "unknown");
  assert.equal(
    report.problem,
    "The GPUs' CC mode is unknown: nvidia-smi conf-compute -f exited with status 18: Failed to initialize NVML: Driver/library version mismatch; nvidia-smi conf-compute -grs did not finish within 300 ms",
  );
});

test("without the driver's /proc files, nvidia-smi --query-gpu lists the GPUs", async () => {
  const { root, bin } = await workDir();
  const smi = await fakeTool(bin, "nvidia-smi", {
    ...smiAnswers("ON", "OFF", "ready"),
    "--query-gpu=name,pci.bus_id,uuid --format=csv,noheader": {
      stdout: "NVIDIA H200, 00000000:1B:00.0, GPU-aaaaaaaa-0000-0000-0000-000000000000\n",
    },
  });
  const nvattest = await fakeTool(bin, "nvattest", {});
  const found = await detectGpus({
    root,
    tools: { nvidiaSmi: smi.path, nvattest: nvattest.path },
    env: {},
  });
  assert.equal(found?.count, 1);
  const report = await describeGpus({ root, tools: { nvidiaSmi: smi.path }, env: {} });
  assert.deepEqual(report.gpus, [
    {
      busId: "0000:1b:00.0",
      name: "NVIDIA H200",
      uuid: "GPU-aaaaaaaa-0000-0000-0000-000000000000",
    },
  ]);
});

test("nvidia-smi's conf-compute outputs are read strictly", () => {
  assert.equal(parseCcStatus("CC status: ON\n"), "on");
  assert.equal(parseCcStatus("CC status: OFF\n"), "off");
  assert.equal(parseCcStatus("    CC State                   : ON\n"), "on");
  assert.equal(parseCcStatus("CC status: DEVTOOLS\n"), "devtools");
  assert.equal(parseCcStatus("CC status: MAYBE\n"), "unknown");
  assert.equal(parseCcStatus("No devices were found\n"), "unknown");
  assert.equal(parseDevToolsMode("DevTools Mode: ON\n"), true);
  assert.equal(parseDevToolsMode("DevTools Mode: OFF\n"), false);
  assert.equal(parseDevToolsMode("Invalid combination of input arguments.\n"), undefined);
  assert.equal(parseReadyState("Confidential Compute GPUs Ready state: ready\n"), "ready");
  assert.equal(parseReadyState("Confidential Compute GPUs Ready state: not-ready\n"), "not-ready");
  assert.equal(parseReadyState("    CC GPUs Ready State        : Ready\n"), "ready");
  assert.equal(parseReadyState("Ready state: soon\n"), "unknown");
  assert.throws(() => parseQueryGpus("NVIDIA H100, 00000000:01:00.0\n"), {
    code: "gpu.provider.output",
  });
});

test("the driver's /proc files are read, and their absence is no error", async () => {
  const { root } = await workDir();
  assert.deepEqual(await readProcGpus(root), []);
  assert.equal(await readProcDriverVersion(root), undefined);
  await fakeProcTree(root, h100s(1), "535.104.05");
  assert.equal(await readProcDriverVersion(root), "535.104.05");
  assert.deepEqual(await readProcGpus(root), [
    {
      busId: "0000:18:00.0",
      name: "NVIDIA H100 80GB HBM3",
      uuid: "GPU-00000000-0000-0000-0000-000000000000",
    },
  ]);
});
