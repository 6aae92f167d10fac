import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ParseError } from "../../../src/errors.js";
import {
  appraiseGpu,
  type GpuClaims,
  type GpuVerification,
  parseGpuEvidence,
  parseGpuEvidenceInput,
  verifyGpuCertChain,
  verifyGpuEvidence,
} from "../../../src/index.js";
import { COCO, NOW, SAMPLE, vectorText } from "./support.js";

function sample(): { bytes: Uint8Array; chain: string; nonce: Uint8Array } {
  const [input] = parseGpuEvidenceInput(vectorText(SAMPLE, "report_hex"));
  assert.ok(input);
  const bytes = input.evidence;
  return { bytes, chain: vectorText(SAMPLE, "cert_chain"), nonce: bytes.slice(4, 36) };
}

function flip(bytes: Uint8Array, at: number, xor: number): void {
  bytes[at] = (bytes[at] as number) ^ xor;
}

function failed(result: GpuVerification): string[] {
  return result.checks.filter((c) => c.status === "fail").map((c) => c.code);
}

async function verifyBytes(bytes: Uint8Array, chain: string, nonce: Uint8Array, now = NOW) {
  return verifyGpuEvidence(parseGpuEvidence(bytes), chain, { now, nonce });
}

describe("named mutations of the nvtrust sample", () => {
  it("verifies unmutated", async () => {
    const { bytes, chain, nonce } = sample();
    const result = await verifyBytes(bytes, chain, nonce);
    assert.deepEqual(failed(result), []);
    assert.ok(result.claims);
  });

  it("wrong nonce -> nvidia.nonce", async () => {
    const { bytes, chain, nonce } = sample();
    const other = nonce.slice();
    flip(other, 31, 1);
    const result = await verifyBytes(bytes, chain, other);
    assert.deepEqual(failed(result), ["nvidia.nonce"]);
    assert.equal(result.claims, undefined);
    assert.deepEqual(failed(await verifyBytes(bytes, chain, nonce.subarray(0, 31))), [
      "nvidia.nonce",
    ]);
  });

  it("a nonce longer than 32 bytes counts by its first 32", async () => {
    const { bytes, chain, nonce } = sample();
    const longer = Uint8Array.from([...nonce, ...new Uint8Array(16).fill(9)]);
    assert.deepEqual(failed(await verifyBytes(bytes, chain, longer)), []);
  });

  it("flipped signature byte -> nvidia.signature", async () => {
    const { bytes, chain, nonce } = sample();
    for (const at of [bytes.length - 96, bytes.length - 49, bytes.length - 1]) {
      const mutated = bytes.slice();
      flip(mutated, at, 0x01);
      const result = await verifyBytes(mutated, chain, nonce);
      assert.deepEqual(failed(result), ["nvidia.signature"], `byte ${at}`);
      assert.equal(result.claims, undefined);
    }
  });

  it("measurement changed -> nvidia.signature", async () => {
    const { bytes, chain, nonce } = sample();
    const evidence = parseGpuEvidence(bytes);
    const block = evidence.response.blocks[1];
    assert.ok(block);
    const mutated = bytes.slice();
    flip(mutated, block.offset + 7, 0x80);
    const changed = parseGpuEvidence(mutated);
    assert.notDeepEqual(changed.response.blocks[1]?.value, block.value);
    assert.deepEqual(failed(await verifyBytes(mutated, chain, nonce)), ["nvidia.signature"]);
  });

  it("opaque FWID changed -> nvidia.signature and nvidia.fwid", async () => {
    const { bytes, chain, nonce } = sample();
    const fwid = parseGpuEvidence(bytes).response.opaque.find((f) => f.name === "fwid");
    assert.ok(fwid);
    const mutated = bytes.slice();
    flip(mutated, fwid.offset + 4, 0xff);
    assert.deepEqual(failed(await verifyBytes(mutated, chain, nonce)), [
      "nvidia.signature",
      "nvidia.fwid",
    ]);
  });

  it("swapped cert chain (another H100's) -> nvidia.signature and nvidia.fwid", async () => {
    const { bytes, nonce } = sample();
    const result = await verifyBytes(bytes, vectorText(COCO, "cert_chain"), nonce);
    assert.deepEqual(failed(result), ["nvidia.signature", "nvidia.fwid"]);
  });

  it("chain with its root left out is completed with the pinned root", async () => {
    const { bytes, chain, nonce } = sample();
    const blocks = chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    assert.equal(blocks?.length, 5);
    const withoutRoot = (blocks ?? []).slice(0, 4).join("\n");
    assert.deepEqual(failed(await verifyBytes(bytes, withoutRoot, nonce)), []);
    const reversed = [...(blocks ?? [])].reverse().join("\n");
    assert.ok(
      failed(await verifyBytes(bytes, reversed, nonce)).includes("nvidia.chain.untrusted_root"),
    );
  });

  it("truncated evidence -> ParseError naming the field", () => {
    const { bytes } = sample();
    assert.throws(
      () => parseGpuEvidence(bytes.subarray(0, bytes.length - 1)),
      (error: unknown) => {
        assert.ok(error instanceof ParseError);
        assert.equal(error.code, "nvidia.evidence.malformed");
        assert.equal(error.field, "response Signature");
        assert.equal(error.offset, bytes.length - 96);
        return true;
      },
    );
  });

  it("checks validity at the given time", async () => {
    const { bytes, chain, nonce } = sample();
    assert.deepEqual(
      failed(await verifyBytes(bytes, chain, nonce, new Date("2021-01-01T00:00:00Z"))),
      ["nvidia.chain.not_yet_valid"],
    );
    await assert.rejects(verifyBytes(bytes, chain, nonce, new Date(Number.NaN)), {
      code: "verify.now",
    });
  });

  it("a chain that is not certificates throws a typed error", async () => {
    const { bytes, nonce } = sample();
    await assert.rejects(verifyBytes(bytes, "not a chain", nonce), {
      code: "certificate.malformed",
    });
    await assert.rejects(verifyGpuCertChain(new Uint8Array(0), { now: NOW }), ParseError);
  });
});

describe("appraiseGpu", () => {
  async function claims(): Promise<GpuClaims> {
    const { bytes, chain, nonce } = sample();
    const result = await verifyBytes(bytes, chain, nonce);
    assert.ok(result.claims);
    return result.claims;
  }
  const status = (checks: ReturnType<typeof appraiseGpu>, code: string) =>
    checks.find((c) => c.code === code)?.status;

  it("fails closed on CC mode and revocation by default", async () => {
    const checks = appraiseGpu(await claims(), {});
    assert.deepEqual(
      checks.map((c) => [c.code, c.status]),
      [
        ["nvidia.policy.cc_mode", "fail"],
        ["nvidia.policy.revocation", "fail"],
      ],
    );
  });

  it("passes a policy the sample meets and fails each rule it does not", async () => {
    const c = await claims();
    const good = appraiseGpu(c, {
      architectures: ["HOPPER"],
      minimumDriverVersion: "550.54.14",
      minimumVbiosVersion: "96.00.74.00.1a",
      ccMode: "attested elsewhere",
      measurements: { 2: [c.measurements[2]?.toUpperCase() ?? ""] },
      allowUnknownRevocation: true,
    });
    assert.deepEqual(
      good.filter((x) => x.status === "fail"),
      [],
    );
    assert.equal(status(good, "nvidia.policy.measurement.2"), "pass");
    const bad = appraiseGpu(c, {
      architectures: ["BLACKWELL"],
      minimumDriverVersion: "550.90.8",
      minimumVbiosVersion: "96.00.a0",
      measurements: { 2: ["00"], 99: ["00"] },
    });
    for (const code of [
      "nvidia.policy.architecture",
      "nvidia.policy.driver_version",
      "nvidia.policy.vbios_version",
      "nvidia.policy.measurement.2",
      "nvidia.policy.measurement.99",
    ]) {
      assert.equal(status(bad, code), "fail", code);
    }
  });

  it("fails a version rule the device does not report or that is not a version", async () => {
    const c = await claims();
    const { driverVersion: _, ...withoutDriver } = c;
    assert.equal(
      status(
        appraiseGpu(withoutDriver, { minimumDriverVersion: "1" }),
        "nvidia.policy.driver_version",
      ),
      "fail",
    );
    assert.equal(
      status(appraiseGpu(c, { minimumDriverVersion: "new" }), "nvidia.policy.driver_version"),
      "fail",
    );
  });
});
