import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TESTVECTORS, vectorEntry } from "../../core/test/support/testvectors.js";
import { type JsonOutput, jsonOutput, reasonCodes, runCloister } from "./support/cloister-cli.js";

// `cloister attest verify` on NVIDIA GPU and NVSwitch evidence: the form (hex, raw, SDK JSON)
// is detected, the nonce comes from --nonce (or, proving no freshness, from the JSON), the
// chain from --certs where the input has none, and RIMs from --rim.

let home: string;
before(async () => {
  home = await mkdtemp(join(tmpdir(), "cloister-gpu-"));
});
after(() => rm(home, { recursive: true, force: true }));

const SAMPLE = "nvidia/nvtrust-h100-sample";
const CHAIN_CASES = "nvidia/trustee-cert-chain-cases";
const COCO = "nvidia/trustee-coco-h100";
const PPCIE = "nvidia/nvtrust-ppcie-hgx";

/** The device chains are valid to 9999; the sample RIMs' signers from 2023-06 to 2025-06. */
const WITHIN_RIMS = "2024-06-01T00:00:00Z";
const ACCEPT = ["--gpu-cc-mode", "attested-elsewhere", "--allow-unknown-revocation"];

const verify = (...args: string[]) => runCloister(["attest", "verify", ...args], home);
const vector = (id: string, role: string) => {
  const path = vectorEntry(id).files[role];
  assert.ok(path, `${id} has no file "${role}"`);
  return join(TESTVECTORS, path);
};
const nonceOf = (id: string, pattern: RegExp) => {
  const hex = pattern.exec(vectorEntry(id).expected)?.[1];
  assert.ok(hex, `${id}: no nonce in its expected text`);
  return hex;
};
const SAMPLE_NONCE = nonceOf(SAMPLE, /nonce ([0-9a-f]{64})/);
const PPCIE_NONCE = nonceOf(PPCIE, /nonce ([0-9a-f]{64})/);
const sample = (...args: string[]) =>
  verify(
    vector(SAMPLE, "report_hex"),
    "--certs",
    vector(SAMPLE, "cert_chain"),
    "--nonce",
    SAMPLE_NONCE,
    ...args,
  );

interface GpuJson extends JsonOutput {
  gpus: {
    index: number;
    arch: string;
    status: string;
    reasons: { code: string }[];
    checks: { code: string; status: string }[];
    claims?: Record<string, unknown>;
    rim?: { rims: string[]; mismatching: number[]; missing: number[] };
  }[];
}
const gpuJson = (run: Awaited<ReturnType<typeof verify>>) => jsonOutput(run) as GpuJson;
const failed = (checks: readonly { code: string; status: string }[]) =>
  checks.filter((c) => c.status === "fail").map((c) => c.code);

describe("the nvtrust H100 sample (hex report + chain)", () => {
  test("is authentic, and affirms when the policy accepts what the evidence cannot show", async () => {
    const [authentic, accepted, strict] = await Promise.all([
      sample("--authenticity-only", "--json"),
      sample(...ACCEPT, "--json"),
      sample("--json"),
    ]);
    assert.equal(authentic.code, 0, authentic.stderr);
    const a = gpuJson(authentic);
    assert.equal(a.form, "NVIDIA SPDM evidence (hex)");
    assert.equal(a.status, "authentic");
    assert.equal(a.gpus.length, 1);
    assert.equal(a.claims?.platform, "nvidia");
    assert.equal(a.claims?.driverVersion, "550.90.07");
    assert.equal(a.claims?.vbiosVersion, "96.00.9f.00.01");
    assert.equal(a.claims?.nonce, SAMPLE_NONCE);
    const fwid = (vectorEntry(SAMPLE).source_asserts as Record<string, string>)[
      "FWID (last 48 bytes of OID 2.23.133.5.4.1 in the leaf)"
    ];
    assert.equal(a.claims?.fwid, fwid);

    assert.equal(accepted.code, 0, accepted.stdout);
    const ok = gpuJson(accepted);
    assert.equal(ok.status, "affirming");
    assert.equal(ok.gpus[0]?.status, "affirming");
    assert.equal(ok.gpus[0]?.arch, "HOPPER");
    // The accepted unknown revocation is still reported.
    assert.deepEqual(reasonCodes(ok), ["nvidia.revocation"]);

    // By default CC mode and revocation must be established: the evidence shows neither.
    assert.equal(strict.code, 1);
    const s = gpuJson(strict);
    assert.equal(s.status, "contraindicated");
    assert.deepEqual(failed(s.checks), ["nvidia.policy.cc_mode", "nvidia.policy.revocation"]);
  });

  test("the human report lists the GPU's model, driver, VBIOS, CC mode and measurements", async () => {
    const run = await sample(...ACCEPT);
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.stdout, /^Verdict +affirming$/m);
    assert.match(run.stdout, /^GPU 0 +affirming$/m);
    assert.match(run.stdout, /model +HOPPER GH100/);
    assert.match(run.stdout, /driver +550\.90\.07/);
    assert.match(run.stdout, /VBIOS +96\.00\.9f\.00\.01/);
    assert.match(run.stdout, /CC mode +not in this evidence/);
    assert.match(run.stdout, /measurements +64 blocks; not compared \(no --rim given\)/);
  });

  test("raw SPDM bytes are detected and verify the same", async () => {
    const hex = await readFile(vector(SAMPLE, "report_hex"), "utf8");
    const raw = join(home, "sample.bin");
    await writeFile(raw, Buffer.from(hex.replace(/\s+/g, ""), "hex"));
    const run = await verify(
      raw,
      "--certs",
      vector(SAMPLE, "cert_chain"),
      "--nonce",
      SAMPLE_NONCE,
      "--authenticity-only",
      "--json",
    );
    assert.equal(run.code, 0, run.stdout);
    assert.equal(gpuJson(run).form, "NVIDIA SPDM evidence (raw)");
  });

  test("a wrong nonce is refused with nvidia.nonce", async () => {
    const run = await sample("--nonce", "00".repeat(32), "--authenticity-only", "--json");
    assert.equal(run.code, 1);
    const result = gpuJson(run);
    assert.equal(result.status, "not authentic");
    assert.deepEqual(failed(result.checks), ["nvidia.nonce"]);
    assert.equal(result.claims, undefined);
  });

  test("the sample RIMs verify, and the indexes where they do not match the report are reported", async () => {
    const run = await sample(
      ...ACCEPT,
      "--rim",
      vector(SAMPLE, "driver_rim"),
      "--rim",
      vector(SAMPLE, "vbios_rim"),
      "--now",
      WITHIN_RIMS,
      "--json",
    );
    assert.equal(run.code, 1);
    const result = gpuJson(run);
    assert.equal(result.status, "contraindicated");
    assert.deepEqual(
      result.checks.filter((c) => c.code === "nvidia.rim.verified").map((c) => c.status),
      ["pass", "pass"],
    );
    // The report is driver 550.90.07 / VBIOS 96.00.9f.00.01; the RIMs 545.00 / 96.00.5E.00.01.
    const rim = result.gpus[0]?.rim;
    assert.deepEqual(rim?.rims, ["GH100 545.00", "GH100 96.00.5E.00.01"]);
    assert.deepEqual(
      rim?.mismatching,
      [1, 2, 3, 7, 9, 11, 21, 22, 25, 26, 27, 29, 30, 31, 32, 34, 36, 37, 39, 40],
    );
    assert.deepEqual(rim?.missing, []);
    assert.deepEqual(
      [...new Set(reasonCodes(result))],
      ["nvidia.revocation", "nvidia.rim.version", "nvidia.rim.measurement_mismatch"],
    );
    // NVDEC0 is disabled in the sample, so index 35 is not compared (NVIDIA's rule).
    assert.ok(
      result.checks.some((c) => c.code === "nvidia.rim.measurement" && c.status === "skip"),
    );
  });

  test("a tampered RIM is refused, and so is the evidence appraised with it", async () => {
    const xml = await readFile(vector(SAMPLE, "driver_rim"), "utf8");
    const tampered = join(home, "tampered.swidtag");
    const altered = xml.replace(
      /Hash0="([0-9a-f])/,
      (_, d: string) => `Hash0="${d === "0" ? "1" : "0"}`,
    );
    assert.notEqual(altered, xml);
    await writeFile(tampered, altered);
    const run = await sample(...ACCEPT, "--rim", tampered, "--now", WITHIN_RIMS, "--json");
    assert.equal(run.code, 1);
    const result = gpuJson(run);
    assert.equal(result.status, "contraindicated");
    assert.deepEqual(failed(result.checks.slice(0, 1)), ["nvidia.rim.signature"]);
    // With its only RIM refused, the GPU has none to be compared with.
    assert.equal(result.gpus[0]?.rim, undefined);
    assert.ok(result.gpus[0]?.checks.some((c) => c.code === "nvidia.rim.none"));
  });

  test("RIMs outside their signers' validity are refused", async () => {
    const run = await sample(...ACCEPT, "--rim", vector(SAMPLE, "driver_rim"), "--json");
    assert.equal(run.code, 1);
    assert.equal(failed(gpuJson(run).checks)[0], "nvidia.rim.expired");
  });
});

describe("chains (trustee's cases) and the CoCo report", () => {
  const entry = vectorEntry(CHAIN_CASES);
  const expectedFailure: Readonly<Record<string, string | undefined>> = {
    case1: undefined,
    case2: "nvidia.chain.too_short",
    case3: "nvidia.chain.signature",
    case4: "nvidia.fwid.missing",
  };
  for (const [name, code] of Object.entries(expectedFailure)) {
    test(`${name}: ${code === undefined ? "valid" : code}`, async () => {
      assert.ok(entry.expected.includes(`${name} ${code === undefined ? "valid" : "error"}`));
      const run = await verify(
        vector(SAMPLE, "report_hex"),
        "--certs",
        vector(CHAIN_CASES, name),
        "--nonce",
        SAMPLE_NONCE,
        "--authenticity-only",
        "--json",
      );
      const result = gpuJson(run);
      if (code === undefined) {
        assert.equal(run.code, 0, run.stdout);
        assert.equal(result.status, "authentic");
      } else {
        assert.equal(run.code, 1);
        assert.equal(result.status, "not authentic");
        assert.ok(failed(result.checks).includes(code), failed(result.checks).join(", "));
      }
    });
  }

  test("the CoCo report verifies with its 48-byte report data as nonce (first 32 bytes count)", async () => {
    const reportData = nonceOf(COCO, /first 32 bytes of ([0-9a-f]+)/);
    assert.equal(reportData.length, 96);
    const run = await verify(
      vector(COCO, "report_hex"),
      "--certs",
      vector(COCO, "cert_chain"),
      "--nonce",
      reportData,
      "--authenticity-only",
      "--json",
    );
    assert.equal(run.code, 0, run.stdout);
    const result = gpuJson(run);
    assert.equal(result.status, "authentic");
    // One zero byte follows the signature: tolerated, and said.
    assert.ok(reasonCodes(result).includes("nvidia.evidence.padding"));
  });
});

describe("the PPCIE HGX evidences (SDK JSON, 8 GPUs and 4 NVSwitches)", () => {
  const entry = vectorEntry(PPCIE);
  const counts = /all (\d+) GPU \((\w+)\) and (\d+) NVSwitch \((\w+)\)/.exec(entry.expected);
  assert.ok(counts);
  const sets = [
    { role: "gpus", count: Number(counts[1]), arch: counts[2] as string },
    { role: "switches", count: Number(counts[3]), arch: counts[4] as string },
  ];

  for (const { role, count, arch } of sets) {
    test(`${role}: all ${count} ${arch} verify from the JSON alone, which proves no freshness`, async () => {
      const [authentic, appraised, fresh] = await Promise.all([
        verify(vector(PPCIE, role), "--authenticity-only", "--json"),
        verify(vector(PPCIE, role), ...ACCEPT, "--json"),
        verify(vector(PPCIE, role), ...ACCEPT, "--nonce", PPCIE_NONCE, "--json"),
      ]);
      assert.equal(authentic.code, 0, authentic.stdout);
      const a = gpuJson(authentic);
      assert.equal(a.status, "authentic");
      assert.equal(a.form, `NVIDIA Attestation SDK JSON (${count} evidences)`);
      assert.deepEqual(
        a.gpus.map((g) => [g.index, g.arch, g.status]),
        Array.from({ length: count }, (_, i) => [i, arch, "authentic"]),
      );
      assert.equal(a.claims, undefined, "several devices: claims are per device");
      for (const gpu of a.gpus) {
        assert.equal(gpu.claims?.nonce, PPCIE_NONCE);
        if (role === "gpus") assert.equal(gpu.claims?.feature, "PPCIE");
      }

      // Appraised, the nonce read from the file is a warning: the file does not affirm.
      assert.equal(appraised.code, 1);
      const w = gpuJson(appraised);
      assert.equal(w.status, "warning");
      assert.ok(w.gpus.every((g) => g.status === "warning"));
      assert.deepEqual(
        w.reasons
          .filter((r) => r.code === "nvidia.nonce.source")
          .map((r) => (r as { gpu?: number }).gpu),
        Array.from({ length: count }, (_, i) => i),
      );

      // With the verifier's own nonce, every device affirms.
      assert.equal(fresh.code, 0, fresh.stdout);
      assert.equal(gpuJson(fresh).status, "affirming");
    });
  }

  test("a wrong --nonce overrides the JSON's and fails every device with nvidia.nonce", async () => {
    const run = await verify(
      vector(PPCIE, "gpus"),
      "--nonce",
      "11".repeat(32),
      ...ACCEPT,
      "--json",
    );
    assert.equal(run.code, 1);
    const result = gpuJson(run);
    assert.equal(result.status, "contraindicated");
    for (const gpu of result.gpus) assert.deepEqual(failed(gpu.checks), ["nvidia.nonce"]);
  });

  test("the policy flags appraise each device; the file's status is the worst", async () => {
    const run = await verify(
      vector(PPCIE, "gpus"),
      "--nonce",
      PPCIE_NONCE,
      ...ACCEPT,
      "--gpu-arch",
      "hopper",
      "--min-driver",
      "590.12",
      "--min-vbios",
      "96.00.a6",
      "--json",
    );
    assert.equal(run.code, 1);
    const result = gpuJson(run);
    assert.equal(result.status, "contraindicated");
    for (const gpu of result.gpus) {
      assert.deepEqual(failed(gpu.checks), ["nvidia.policy.vbios_version"]);
      assert.ok(
        gpu.checks.some((c) => c.code === "nvidia.policy.architecture" && c.status === "pass"),
      );
    }
    const human = await verify(vector(PPCIE, "switches"), "--nonce", PPCIE_NONCE, ...ACCEPT);
    assert.equal(human.code, 0, human.stdout);
    assert.equal(human.stdout.match(/^NVSwitch \d +affirming$/gm)?.length, 4);
    assert.match(human.stdout, /model +LS10 LS_10/);
  });
});

describe("refusals before verification", () => {
  test("GPU evidence needs a nonce, and a chain where it carries none", async () => {
    const [noNonce, noChain] = await Promise.all([
      verify(vector(SAMPLE, "report_hex"), "--certs", vector(SAMPLE, "cert_chain")),
      verify(vector(SAMPLE, "report_hex"), "--nonce", SAMPLE_NONCE),
    ]);
    assert.equal(noNonce.code, 1);
    assert.match(noNonce.stderr, /\[nvidia\.nonce\.missing\]/);
    assert.equal(noChain.code, 1);
    assert.match(noChain.stderr, /\[nvidia\.chain\.missing\]/);
  });

  test("flags of the other kind of evidence are refused, not ignored", async () => {
    const snp = vectorEntry("snp/go-sev-guest-milan").files;
    const [chipId, certs, rimOnly, gpuFlagOnSnp] = await Promise.all([
      sample("--chip-id", "00"),
      verify(vector(PPCIE, "gpus"), "--certs", vector(SAMPLE, "cert_chain")),
      sample("--rim", vector(SAMPLE, "driver_rim"), "--authenticity-only"),
      verify(join(TESTVECTORS, snp.report as string), "--nonce", SAMPLE_NONCE),
    ]);
    for (const run of [chipId, certs, rimOnly, gpuFlagOnSnp]) {
      assert.equal(run.code, 1, run.stdout);
      assert.match(run.stderr, /\[input\.flag_unsupported\]/);
    }
  });

  test("--policy appraises with the file's nvidia section; the GPU flags refine it", async () => {
    const path = join(home, "nvidia-policy.json");
    await writeFile(
      path,
      JSON.stringify({
        nvidia: {
          ccMode: "attested elsewhere",
          allowUnknownRevocation: true,
          architectures: ["LS10"],
        },
      }),
    );
    const [fromFile, refined] = await Promise.all([
      sample("--policy", path, "--json"),
      sample("--policy", path, "--gpu-arch", "HOPPER", "--json"),
    ]);
    assert.deepEqual(failed(jsonOutput(fromFile).checks), ["nvidia.policy.architecture"]);
    assert.equal(refined.code, 0, refined.stderr);
    assert.equal(jsonOutput(refined).status, "affirming");
  });
});
