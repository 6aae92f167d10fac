import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ParseError } from "../../../src/errors.js";
import { parseGpuEvidence, parseGpuEvidenceInput } from "../../../src/index.js";
import { buildEvidence, PPCIE, SAMPLE, vectorText } from "./support.js";

const utf8 = (text: string) => new TextEncoder().encode(text);
const malformed = (field: RegExp, offset?: number) => (error: unknown) => {
  assert.ok(error instanceof ParseError, String(error));
  assert.equal(error.code, "nvidia.evidence.malformed");
  assert.match(error.field, field);
  if (offset !== undefined) assert.equal(error.offset, offset);
  return true;
};

function sampleBytes(): Uint8Array {
  const [input] = parseGpuEvidenceInput(vectorText(SAMPLE, "report_hex"));
  assert.ok(input);
  return input.evidence;
}

describe("parseGpuEvidence", () => {
  it("reads the sample's request, record, opaque data and signature by their lengths", () => {
    const bytes = sampleBytes();
    const evidence = parseGpuEvidence(bytes);
    assert.equal(evidence.request.version, 0x11);
    assert.equal(evidence.request.operation, 0xff);
    assert.equal(evidence.request.slotId, 0);
    assert.equal(evidence.response.blocks.length, 64);
    assert.deepEqual(
      evidence.response.blocks.map((b) => b.index),
      Array.from({ length: 64 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      evidence.response.opaque.map((f) => f.name),
      [
        "vbios_version",
        "board_id",
        "chip_sku",
        "chip_sku_mod",
        "project",
        "project_sku",
        "project_sku_mod",
        "driver_version",
        "gpu_info",
        "measurement_count",
        "cpr_info",
        "nvdec0_status",
        "fwid",
        "protected_pcie_status",
      ],
    );
    assert.equal(evidence.response.signature.length, 96);
    assert.equal(evidence.signedBytes.length, bytes.length - 96);
    assert.equal(evidence.padding, 0);
  });

  it("names the field and offset of every truncation", () => {
    const bytes = sampleBytes();
    for (let length = 0; length < bytes.length; length++) {
      assert.throws(
        () => parseGpuEvidence(bytes.subarray(0, length)),
        (error: unknown) =>
          error instanceof ParseError &&
          error.code === "nvidia.evidence.malformed" &&
          error.field.length > 0 &&
          error.offset !== undefined &&
          error.offset <= length,
        `length ${length}`,
      );
    }
    assert.throws(
      () => parseGpuEvidence(bytes.subarray(0, 100)),
      malformed(/^response MeasurementRecord$/, 45),
    );
  });

  it("refuses bytes after the signature, and non-zero ones even with padding allowed", () => {
    const bytes = sampleBytes();
    for (const trailing of [[0], [1], [0, 0, 7]]) {
      const longer = Uint8Array.from([...bytes, ...trailing]);
      assert.throws(() => parseGpuEvidence(longer), {
        code: "nvidia.evidence.trailing_data",
        offset: bytes.length,
      });
      if (trailing.some((b) => b !== 0)) {
        assert.throws(() => parseGpuEvidence(longer, { allowZeroPadding: true }), {
          code: "nvidia.evidence.trailing_data",
        });
      }
    }
  });

  it("reads NVSwitch (LS10) evidence: 31 blocks, text VBIOS, PDI, no driver or FWID", () => {
    const inputs = parseGpuEvidenceInput(vectorText(PPCIE, "switches"));
    for (const input of inputs) {
      const evidence = parseGpuEvidence(input.evidence);
      assert.equal(evidence.response.blocks.length, 31);
      assert.match(evidence.values.vbiosVersion ?? "", /^96\.10\.[0-9a-f]{2}\.00\.01$/);
      assert.equal(evidence.values.switchPdis?.length, 1);
      assert.equal(evidence.values.driverVersion, undefined);
      assert.equal(evidence.values.fwid, undefined);
      // Type 26 is not among nvtrust's published ids: kept, unnamed, as hex.
      assert.equal(evidence.response.opaque.find((f) => f.type === 26)?.name, undefined);
      assert.equal(evidence.values.hex.type_26?.length, 256);
    }
  });

  it("refuses malformed requests and records", () => {
    assert.doesNotThrow(() => parseGpuEvidence(buildEvidence()));
    assert.throws(
      () => parseGpuEvidence(buildEvidence({ attributes: 0 })),
      malformed(/request Param1/, 2),
    );
    assert.throws(
      () => parseGpuEvidence(Uint8Array.from([0x10, ...buildEvidence().subarray(1)])),
      malformed(/request SPDMVersion/, 0),
    );
    const value = new Uint8Array(48);
    assert.throws(
      () => parseGpuEvidence(buildEvidence({ blocks: [{ index: 1, specification: 2, value }] })),
      malformed(/MeasurementSpecification/, 45),
    );
    assert.throws(
      () =>
        parseGpuEvidence(
          buildEvidence({
            blocks: [
              { index: 3, value },
              { index: 3, value },
            ],
          }),
        ),
      malformed(/Index/),
    );
    assert.throws(
      () => parseGpuEvidence(buildEvidence({ blocks: [{ index: 1, value, valueSize: 47 }] })),
      malformed(/DMTFSpecMeasurementValueSize/),
    );
    assert.throws(
      () =>
        parseGpuEvidence(
          buildEvidence({
            blocks: [
              { index: 1, value },
              { index: 2, value },
            ],
            count: 1,
          }),
        ),
      malformed(/^response MeasurementRecord$/),
    );
    assert.throws(() => parseGpuEvidence(buildEvidence({ count: 2 })), malformed(/block 2 header/));
    assert.throws(
      () => parseGpuEvidence(buildEvidence({ blocks: [], count: 0 })),
      malformed(/NumberOfBlocks/),
    );
  });

  it("refuses malformed opaque data", () => {
    const text = utf8("550.90.07\0");
    assert.throws(
      () =>
        parseGpuEvidence(
          buildEvidence({
            opaque: [
              [3, text],
              [3, text],
            ],
          }),
        ),
      malformed(/opaque field 3/),
    );
    assert.throws(
      () => parseGpuEvidence(buildEvidence({ opaque: [[255, new Uint8Array(1)]] })),
      malformed(/opaque field type/),
    );
    assert.throws(
      () => parseGpuEvidence(buildEvidence({ opaque: [[3, utf8("55\u0001")]] })),
      malformed(/driver_version/),
    );
    assert.throws(
      () => parseGpuEvidence(buildEvidence({ opaque: [[20, new Uint8Array(47)]] })),
      malformed(/fwid/),
    );
    assert.throws(
      () => parseGpuEvidence(buildEvidence({ opaque: [[12, new Uint8Array(5)]] })),
      malformed(/measurement_count/),
    );
    const flags = parseGpuEvidence(
      buildEvidence({
        opaque: [
          [36, Uint8Array.of(1, 0)],
          [11, Uint8Array.of(0xaa)],
        ],
      }),
    ).values;
    assert.equal(flags.feature, "MPT");
    assert.deepEqual(flags.nvdec0Status, { raw: 0xaa, state: "enabled" });
  });
});

describe("parseGpuEvidenceInput", () => {
  it("accepts bytes, hex text and the SDK's JSON", () => {
    const bytes = buildEvidence();
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    assert.deepEqual(parseGpuEvidenceInput(bytes)[0]?.evidence, bytes);
    assert.deepEqual(
      parseGpuEvidenceInput(`${hex.slice(0, 10)}\n${hex.slice(10)}\n`)[0]?.evidence,
      bytes,
    );
    assert.deepEqual(parseGpuEvidenceInput(utf8(hex))[0]?.evidence, bytes);
    const [one] = JSON.parse(vectorText(PPCIE, "gpus")) as Record<string, string>[];
    const single = parseGpuEvidenceInput(JSON.stringify(one));
    assert.equal(single.length, 1);
    assert.match(single[0]?.certChain ?? "", /^-----BEGIN CERTIFICATE-----/);
    assert.equal(single[0]?.declared.driverVersion, "590.12");
  });

  it("refuses other input with nvidia.input.malformed", () => {
    for (const input of [
      "",
      "xyz",
      "abc",
      "[]",
      "{",
      "[1]",
      '{"evidence":"EeA="}',
      '{"evidence":"EeA=","certificate":5}',
      '{"evidence":"EeA=","certificate":"LS0=","arch":1}',
      Uint8Array.of(0xff, 0xfe),
    ]) {
      assert.throws(
        () => parseGpuEvidenceInput(input),
        { code: "nvidia.input.malformed" },
        String(input),
      );
    }
  });
});
