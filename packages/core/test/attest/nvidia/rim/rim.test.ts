import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  buildRim,
  CloisterError,
  compareMeasurements,
  NVIDIA_RIM_ROOT_SHA256,
  type RawRim,
  type RawRimMeasurement,
  verifyRimChain,
} from "../../../../src/index.js";
import { TESTVECTORS, vectorEntry } from "../../../support/testvectors.js";

const SHA384_NS = "http://www.w3.org/2001/04/xmlenc#sha384";
const hex = (byte: string) => byte.repeat(48);

function entry(index: number, active: boolean, ...hashes: string[]): RawRimMeasurement {
  return {
    index: String(index),
    active: active ? "True" : "False",
    alternatives: String(hashes.length),
    name: `Measurement_${index}`,
    size: "48",
    hashNamespace: SHA384_NS,
    hashes: Object.fromEntries(hashes.map((h, i) => [`Hash${i}`, h])),
  };
}

function raw(version: string, ...measurements: RawRimMeasurement[]): RawRim {
  return {
    tagId: "t",
    product: "GH100",
    colloquialVersion: version,
    edition: "GPU",
    revision: "r1",
    measurements,
  };
}

const malformed = (e: unknown) => e instanceof CloisterError && e.code === "nvidia.rim.malformed";

describe("buildRim", () => {
  test("types the entries and lower-cases versions and digests", () => {
    const rim = buildRim(
      raw("96.00.5E.00.01", entry(2, true, hex("AB")), entry(1, false, hex("00"))),
    );
    assert.equal(rim.firmwareVersion, "96.00.5e.00.01");
    assert.deepEqual(
      rim.measurements.map((m) => m.index),
      [1, 2],
    );
    assert.deepEqual(rim.measurements[1]?.alternatives, [hex("ab")]);
    assert.equal(rim.measurements[1]?.algorithm, "sha384");
  });

  test("refuses what NVIDIA's reader would refuse", () => {
    const bad: RawRim[] = [
      raw("", entry(1, true, hex("00"))),
      raw("1"),
      raw("1", entry(1, true, hex("00")), entry(1, false, hex("00"))),
      raw("1", { ...entry(1, true, hex("00")), alternatives: "2" }),
      raw("1", { ...entry(1, true, hex("00")), active: "yes" }),
      raw("1", { ...entry(1, true, hex("00")), index: "-1" }),
      raw("1", { ...entry(1, true, hex("00")), size: "32" }),
      raw("1", { ...entry(1, true, hex("00")), hashNamespace: "urn:x" }),
      raw("1", entry(1, true, "zz".repeat(48))),
      raw("1", entry(1, true, "00")),
    ];
    for (const input of bad) assert.throws(() => buildRim(input), malformed);
  });
});

describe("compareMeasurements", () => {
  const driver = buildRim(
    raw(
      "550.90.07",
      entry(0, false, hex("00")),
      entry(3, true, hex("aa"), hex("bb")),
      entry(35, true, hex("cc")),
    ),
  );
  const vbios = buildRim(
    raw("96.00.9f.00.01", entry(1, true, hex("11")), entry(3, false, hex("00"))),
  );

  test("passes when every active index equals one alternative", () => {
    const runtime = new Map([
      [1, hex("11")],
      [3, hex("BB")],
      [35, hex("cc")],
      [40, hex("ee")],
    ]);
    const checks = compareMeasurements([driver, vbios], runtime);
    assert.deepEqual(
      checks.map((c) => [c.code, c.status]),
      [["nvidia.rim.measurements", "pass"]],
    );
  });

  test("reports each mismatching and missing index", () => {
    const runtime = new Map([
      [3, hex("cc")],
      [35, hex("cc").slice(2)],
    ]);
    const checks = compareMeasurements([driver, vbios], runtime);
    assert.deepEqual(
      checks.map((c) => [c.code, c.status, /index (\d+)/.exec(c.message)?.[1]]),
      [
        ["nvidia.rim.measurement_missing", "fail", "1"],
        ["nvidia.rim.measurement_mismatch", "fail", "3"],
        ["nvidia.rim.measurement_mismatch", "fail", "35"],
      ],
    );
  });

  test("skips indexes the caller names (NVIDIA: 35 when NVDEC0 is disabled)", () => {
    const runtime = new Map([
      [1, hex("11")],
      [3, hex("aa")],
    ]);
    const checks = compareMeasurements([driver, vbios], runtime, { skip: [35] });
    assert.deepEqual(
      checks.map((c) => c.status),
      ["skip", "pass"],
    );
  });

  test("two RIMs active at the same index conflict", () => {
    const clash = buildRim(raw("x", entry(3, true, hex("aa"))));
    const checks = compareMeasurements(
      [driver, clash],
      new Map([
        [3, hex("aa")],
        [35, hex("cc")],
      ]),
    );
    assert.deepEqual(
      checks.map((c) => [c.code, c.status]),
      [["nvidia.rim.index_conflict", "fail"]],
    );
  });
});

describe("verifyRimChain on the certificates of the sample driver RIM", () => {
  const xml = readFileSync(
    `${TESTVECTORS}${vectorEntry("nvidia/nvtrust-h100-sample").files.driver_rim}`,
    "utf8",
  );
  const ders = [...xml.matchAll(/<ds:X509Certificate>([^<]*)<\/ds:X509Certificate>/g)].map(
    (m) => new Uint8Array(Buffer.from((m[1] as string).replace(/\s+/g, ""), "base64")),
  );
  const within = new Date("2024-06-01Z");
  const code = (c: string) => (e: unknown) => e instanceof CloisterError && e.code === c;

  test("chains to the pinned root, embedded root included or not", async () => {
    assert.equal(ders.length, 4);
    const signer = await verifyRimChain(ders, within);
    assert.equal(signer.anchor.fingerprint, NVIDIA_RIM_ROOT_SHA256);
    assert.match(signer.subject, /HCC RIM L4 Signer/);
    assert.deepEqual(await verifyRimChain(ders.slice(0, 3), within), signer);
  });

  test("a missing intermediate or a leaf alone does not chain", async () => {
    await assert.rejects(
      verifyRimChain([ders[0], ders[2], ders[3]] as Uint8Array[], within),
      code("nvidia.rim.chain"),
    );
    await assert.rejects(
      verifyRimChain([ders[0]] as Uint8Array[], within),
      code("nvidia.rim.chain"),
    );
    await assert.rejects(
      verifyRimChain([ders[3]] as Uint8Array[], within),
      code("nvidia.rim.chain"),
    );
  });

  test("validity is checked at now for every certificate", async () => {
    await assert.rejects(verifyRimChain(ders, new Date("2025-06-27Z")), code("nvidia.rim.expired"));
    await assert.rejects(verifyRimChain(ders, new Date("2023-05-01Z")), code("nvidia.rim.expired"));
    await assert.rejects(verifyRimChain(ders, new Date(Number.NaN)), code("verify.now"));
  });
});
