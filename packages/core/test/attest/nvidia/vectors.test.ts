import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromHex } from "../../../src/bytes.js";
import {
  type GpuClaims,
  type GpuVerification,
  parseGpuEvidence,
  parseGpuEvidenceInput,
  verifyGpuCertChain,
  verifyGpuEvidence,
} from "../../../src/index.js";
import { VECTOR_INDEX, type VectorEntry, vectorEntry } from "../../support/testvectors.js";
import { CHAIN_CASES, COCO, NOW, PPCIE, SAMPLE, vectorText } from "./support.js";

/** Each nvidia entry of index.json is checked against the verdict its `expected` text records. */

function nonceIn(text: string, pattern: RegExp): Uint8Array {
  const hex = pattern.exec(text)?.[1];
  assert.ok(hex, `no nonce in ${JSON.stringify(text)}`);
  return fromHex(hex) as Uint8Array;
}

function assertVerified(result: GpuVerification, where: string): GpuClaims {
  const failed = result.checks.filter((c) => c.status === "fail");
  assert.deepEqual(failed, [], `${where}: ${JSON.stringify(failed)}`);
  assert.ok(result.claims, `${where}: no claims`);
  return result.claims;
}

/** trustee's case number -> the reason code its recorded error corresponds to. */
const CHAIN_CASE_CODES: Readonly<Record<string, { words: string; code?: string }>> = {
  case1: { words: "valid" },
  case2: { words: "root only", code: "nvidia.chain.too_short" },
  case3: { words: "intermediate missing", code: "nvidia.chain.signature" },
  case4: { words: "leaf missing", code: "nvidia.fwid.missing" },
};

const HANDLERS: Readonly<Record<string, (entry: VectorEntry) => Promise<void>>> = {
  [SAMPLE]: async (entry) => {
    assert.match(entry.expected, /^valid/);
    const nonce = nonceIn(entry.expected, /nonce ([0-9a-f]{64})/);
    const [input] = parseGpuEvidenceInput(vectorText(SAMPLE, "report_hex"));
    assert.ok(input);
    const claims = assertVerified(
      await verifyGpuEvidence(parseGpuEvidence(input.evidence), vectorText(SAMPLE, "cert_chain"), {
        now: NOW,
        nonce,
      }),
      entry.id,
    );
    const asserts = entry.source_asserts as Record<string, string>;
    const fwid = asserts["FWID (last 48 bytes of OID 2.23.133.5.4.1 in the leaf)"];
    assert.equal(claims.fwid, fwid);
    assert.equal(claims.architecture, "HOPPER");
    assert.equal(Object.keys(claims.measurements).length, 64);
    const mode = asserts["nvtrust test mode"] as string;
    assert.ok(mode.includes(`driver ${claims.driverVersion}`));
    assert.ok(mode.includes(`VBIOS ${claims.vbiosVersion}`));
  },
  [CHAIN_CASES]: async (entry) => {
    const asserts = vectorEntry(SAMPLE).source_asserts as Record<string, string>;
    const fwid = asserts["FWID (last 48 bytes of OID 2.23.133.5.4.1 in the leaf)"];
    for (const [name, { words, code }] of Object.entries(CHAIN_CASE_CODES)) {
      assert.ok(entry.expected.includes(`${name} ${code === undefined ? "valid" : "error"}`));
      assert.ok(entry.expected.includes(words), `${name}: ${words}`);
      const result = await verifyGpuCertChain(vectorText(CHAIN_CASES, name), { now: NOW, fwid });
      const failed = result.checks.filter((c) => c.status === "fail").map((c) => c.code);
      assert.deepEqual(failed, code === undefined ? [] : [code], name);
    }
    // The leaf alone is the signing certificate of the sample report, and names its FWID.
    const leaf = await verifyGpuCertChain(vectorText(CHAIN_CASES, "leaf"), { now: NOW, fwid });
    assert.deepEqual(
      leaf.checks.map((c) => c.code),
      ["nvidia.chain.too_short"],
    );
  },
  [COCO]: async (entry) => {
    assert.match(entry.expected, /^valid/);
    const reportData = nonceIn(entry.expected, /first 32 bytes of ([0-9a-f]+)/);
    assert.equal(reportData.length, 48);
    const [input] = parseGpuEvidenceInput(vectorText(COCO, "report_hex"));
    assert.ok(input);
    // One zero byte follows the signature: refused unless padding is allowed, then noted.
    assert.throws(() => parseGpuEvidence(input.evidence), {
      code: "nvidia.evidence.trailing_data",
      offset: input.evidence.length - 1,
    });
    const evidence = parseGpuEvidence(input.evidence, { allowZeroPadding: true });
    assert.equal(evidence.padding, 1);
    const result = await verifyGpuEvidence(evidence, vectorText(COCO, "cert_chain"), {
      now: NOW,
      nonce: reportData,
    });
    assertVerified(result, entry.id);
    assert.equal(result.checks.find((c) => c.code === "nvidia.evidence.padding")?.status, "warn");
  },
  [PPCIE]: async (entry) => {
    const counts = /all (\d+) GPU \((\w+)\) and (\d+) NVSwitch \((\w+)\)/.exec(entry.expected);
    assert.ok(counts);
    const nonce = nonceIn(entry.expected, /nonce ([0-9a-f]{64})/);
    const asserts = entry.source_asserts as Record<string, string>;
    const [driver, vbios] = (asserts["gpu driver/vbios"] as string).split(" / ");
    for (const [role, count, arch] of [
      ["gpus", counts[1], counts[2]],
      ["switches", counts[3], counts[4]],
    ] as const) {
      const inputs = parseGpuEvidenceInput(vectorText(PPCIE, role));
      assert.equal(inputs.length, Number(count));
      const serials = new Set<string>();
      for (const [i, input] of inputs.entries()) {
        assert.ok(input.certChain);
        const claims = assertVerified(
          await verifyGpuEvidence(parseGpuEvidence(input.evidence), input.certChain, {
            now: NOW,
            nonce,
          }),
          `${role} ${i}`,
        );
        assert.equal(claims.architecture, arch);
        assert.equal(input.declared.arch, arch);
        assert.equal(input.declared.nonce, claims.nonce);
        serials.add(claims.serial ?? "");
        if (role === "gpus") {
          assert.equal(claims.kind, "gpu");
          assert.equal(claims.driverVersion, driver);
          assert.equal(claims.vbiosVersion, vbios?.toLowerCase());
          assert.equal(input.declared.vbiosVersion?.toLowerCase(), claims.vbiosVersion);
          assert.equal(claims.feature, "PPCIE");
        } else {
          assert.equal(claims.kind, "switch");
          assert.equal(claims.driverVersion, undefined);
          assert.equal(claims.blocks.length, 31);
          assert.ok(claims.vbiosVersion?.startsWith("96.10."));
        }
      }
      assert.equal(serials.size, inputs.length, "each device has its own leaf");
    }
  },
};

describe("NVIDIA vectors from index.json", () => {
  const entries = VECTOR_INDEX.filter((e) => e.tee === "nvidia");
  it("covers every nvidia entry", () => {
    assert.ok(entries.length >= 4);
    for (const entry of entries) assert.ok(HANDLERS[entry.id], `no test for ${entry.id}`);
  });
  for (const entry of entries) {
    it(`${entry.id} reaches its recorded verdict`, async () => {
      const handler = HANDLERS[entry.id];
      assert.ok(handler);
      await handler(entry);
    });
  }
});
