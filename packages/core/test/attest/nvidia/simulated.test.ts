import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toHex } from "../../../src/bytes.js";
import { ParseError } from "../../../src/errors.js";
import {
  appraiseGpu,
  type CreateSimulatedGpuOptions,
  createSimulatedGpu,
  encodeGpuEvidence,
  type GpuEvidence,
  type GpuEvidenceFields,
  type GpuVerification,
  importSimulatedGpu,
  NVIDIA_DEVICE_ROOT_SHA256,
  parseGpuEvidence,
  parseGpuEvidenceInput,
  signGpuEvidence,
  verdictOf,
  verifyGpuCertChain,
  verifyGpuEvidence,
} from "../../../src/index.js";
import { COCO, NOW, PPCIE, SAMPLE, vectorText } from "./support.js";

const P384 = { name: "ECDSA", namedCurve: "P-384" } as const;

function failed(result: { readonly checks: GpuVerification["checks"] }): string[] {
  return result.checks.filter((c) => c.status === "fail").map((c) => c.code);
}

function nonce(fill?: number): Uint8Array {
  return fill === undefined
    ? crypto.getRandomValues(new Uint8Array(32))
    : new Uint8Array(32).fill(fill);
}

/** Every real evidence in the corpus: the single-GPU samples and the PPCIE GPUs and switches. */
function realEvidences(): { name: string; evidence: GpuEvidence }[] {
  const inputs = [
    ...parseGpuEvidenceInput(vectorText(SAMPLE, "report_hex")).map((i) => [SAMPLE, i] as const),
    ...parseGpuEvidenceInput(vectorText(COCO, "report_hex")).map((i) => [COCO, i] as const),
    ...parseGpuEvidenceInput(vectorText(PPCIE, "gpus")).map((i) => [`${PPCIE} gpu`, i] as const),
    ...parseGpuEvidenceInput(vectorText(PPCIE, "switches")).map(
      (i) => [`${PPCIE} switch`, i] as const,
    ),
  ];
  return inputs.map(([name, input], i) => ({
    name: `${name} #${i}`,
    evidence: parseGpuEvidence(input.evidence, { allowZeroPadding: true }),
  }));
}

/** The parsed evidence's fields, every opaque field raw and in its original order. */
function fieldsOf(evidence: GpuEvidence): GpuEvidenceFields {
  return {
    nonce: evidence.request.nonce,
    responderNonce: evidence.response.responderNonce,
    blocks: evidence.response.blocks.map(({ index, value, valueType, raw }) => ({
      index,
      value,
      valueType,
      raw,
    })),
    opaque: { fields: evidence.response.opaque.map(({ type, value }) => ({ type, value })) },
  };
}

describe("encodeGpuEvidence", () => {
  it("re-encodes every real evidence's signed bytes byte for byte", () => {
    const all = realEvidences();
    assert.ok(all.length >= 4, `only ${all.length} real evidences`);
    for (const { name, evidence } of all) {
      assert.deepEqual(encodeGpuEvidence(fieldsOf(evidence)), evidence.signedBytes, name);
    }
  });

  it("encodes named opaque values exactly as NVIDIA's devices do", () => {
    for (const { name, evidence } of realEvidences()) {
      const { values } = evidence;
      if (values.driverVersion === undefined || values.vbiosVersion === undefined) continue;
      const named = new Set([3, 6, 12, 20, 36]);
      const feature = values.feature === "unknown" ? undefined : values.feature;
      const encoded = encodeGpuEvidence({
        ...fieldsOf(evidence),
        opaque: {
          driverVersion: values.driverVersion,
          vbiosVersion: values.vbiosVersion,
          ...(values.fwid === undefined ? {} : { fwid: values.fwid }),
          ...(values.measurementCount === undefined
            ? {}
            : { measurementCount: values.measurementCount }),
          ...(feature === undefined ? {} : { feature }),
          fields: evidence.response.opaque
            .filter((field) => !named.has(field.type))
            .map(({ type, value }) => ({ type, value })),
        },
      });
      const reparsed = parseGpuEvidence(
        Uint8Array.from([...encoded, ...evidence.response.signature]),
      );
      // Same fields, same bytes: only their order differs from the device's.
      const byType = (e: GpuEvidence) =>
        Object.fromEntries(e.response.opaque.map((f) => [f.type, toHex(f.value)]));
      assert.deepEqual(byType(reparsed), byType(evidence), name);
      assert.deepEqual(reparsed.values, values, name);
    }
  });

  it("round-trips through parseGpuEvidence, signed", async () => {
    const keys = await crypto.subtle.generateKey(P384, false, ["sign", "verify"]);
    const fields: GpuEvidenceFields = {
      nonce: nonce(0x11),
      responderNonce: nonce(0x22),
      blocks: [
        { index: 1, value: new Uint8Array(48).fill(1) },
        { index: 7, value: Uint8Array.of(1, 2, 3), valueType: 4, raw: true },
      ],
      opaque: {
        driverVersion: "570.124.06",
        vbiosVersion: "96.00.CF.00.02",
        fwid: "ab".repeat(48),
        measurementCount: [1, 0, 0, 0, 0, 0, 2],
        feature: "PPCIE",
        fields: [{ type: 200, value: Uint8Array.of(9) }],
      },
    };
    const bytes = await signGpuEvidence(fields, keys.privateKey);
    const parsed = parseGpuEvidence(bytes);
    assert.deepEqual(parsed.signedBytes, encodeGpuEvidence(fields));
    assert.deepEqual(parsed.request.nonce, fields.nonce);
    assert.equal(parsed.request.operation, 0xff);
    assert.deepEqual(parsed.response.responderNonce, fields.responderNonce);
    assert.deepEqual(
      parsed.response.blocks.map((b) => [b.index, b.valueType, b.kind, b.raw, toHex(b.value)]),
      [
        [1, 1, "mutable-firmware", false, "01".repeat(48)],
        [7, 4, "measurement-manifest", true, "010203"],
      ],
    );
    assert.equal(parsed.values.driverVersion, "570.124.06");
    assert.equal(parsed.values.vbiosVersion, "96.00.cf.00.02");
    assert.equal(parsed.values.fwid, "ab".repeat(48));
    assert.deepEqual(parsed.values.measurementCount, [1, 0, 0, 0, 0, 0, 2]);
    assert.equal(parsed.values.feature, "PPCIE");
    assert.equal(parsed.values.hex.type_200, "09");
    assert.ok(
      await crypto.subtle.verify(
        { name: "ECDSA", hash: "SHA-384" },
        keys.publicKey,
        parsed.response.signature as Uint8Array<ArrayBuffer>,
        parsed.signedBytes as Uint8Array<ArrayBuffer>,
      ),
    );
  });

  it("draws a random responder nonce when none is given", () => {
    const fields = { nonce: nonce(1), blocks: [{ index: 1, value: Uint8Array.of(1) }], opaque: {} };
    const a = encodeGpuEvidence(fields);
    const b = encodeGpuEvidence(fields);
    assert.equal(a.length, b.length);
    assert.notDeepEqual(a, b);
  });

  it("refuses what the parser would refuse", () => {
    const ok: GpuEvidenceFields = {
      nonce: nonce(1),
      blocks: [{ index: 1, value: Uint8Array.of(1) }],
      opaque: {},
    };
    const block = { index: 1, value: Uint8Array.of(1) };
    const cases: [string, GpuEvidenceFields][] = [
      ["short nonce", { ...ok, nonce: new Uint8Array(31) }],
      ["short responder nonce", { ...ok, responderNonce: new Uint8Array(33) }],
      ["no blocks", { ...ok, blocks: [] }],
      ["index 0", { ...ok, blocks: [{ ...block, index: 0 }] }],
      ["index 255", { ...ok, blocks: [{ ...block, index: 255 }] }],
      ["repeated index", { ...ok, blocks: [block, block] }],
      ["value type", { ...ok, blocks: [{ ...block, valueType: 0x80 }] }],
      ["oversized value", { ...ok, blocks: [{ ...block, value: new Uint8Array(0xfffd) }] }],
      ["driver", { ...ok, opaque: { driverVersion: "550\n90" } }],
      ["vbios", { ...ok, opaque: { vbiosVersion: "96.00.9f.00" } }],
      ["fwid", { ...ok, opaque: { fwid: "ab".repeat(47) } }],
      ["count", { ...ok, opaque: { measurementCount: [-1] } }],
      ["type 255", { ...ok, opaque: { fields: [{ type: 255, value: Uint8Array.of(1) }] } }],
      [
        "repeated type",
        { ...ok, opaque: { driverVersion: "1", fields: [{ type: 3, value: Uint8Array.of(0) }] } },
      ],
    ];
    assert.ok(encodeGpuEvidence(ok).length > 0);
    for (const [name, fields] of cases) {
      assert.throws(() => encodeGpuEvidence(fields), { code: "nvidia.simulated.input" }, name);
    }
  });

  it("refuses a key that cannot sign ECDSA P-384", async () => {
    const p256 = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
    ]);
    await assert.rejects(
      signGpuEvidence(
        { nonce: nonce(1), blocks: [{ index: 1, value: Uint8Array.of(1) }], opaque: {} },
        p256.privateKey,
      ),
      { code: "nvidia.simulated.key" },
    );
  });
});

describe("simulated GPU", async () => {
  const gpu = await createSimulatedGpu();
  const other = await createSimulatedGpu();

  async function verify(
    attestation: { evidence: Uint8Array; certificates: Uint8Array | string },
    expected: Uint8Array,
    simulatedRoots?: readonly string[],
  ): Promise<GpuVerification> {
    return verifyGpuEvidence(parseGpuEvidence(attestation.evidence), attestation.certificates, {
      now: new Date(),
      nonce: expected,
      ...(simulatedRoots === undefined ? {} : { simulatedRoots }),
    });
  }

  it("verifies with its root passed, always with the INSECURE warning", async () => {
    const expected = nonce();
    const attestation = await gpu.collect(expected);
    assert.equal(attestation.ccMode, "on");
    const result = await verify(attestation, expected, [gpu.rootPem]);
    assert.deepEqual(failed(result), []);
    const warning = result.checks.find((c) => c.code === "nvidia.simulated");
    assert.equal(warning?.status, "warn");
    assert.match(warning.message, /^INSECURE: simulated GPU/);
    assert.equal(verdictOf(result.checks), "warning");
    const claims = result.claims;
    assert.ok(claims);
    assert.equal(claims.architecture, "HOPPER");
    assert.equal(claims.chip, "GH100");
    assert.equal(claims.nonce, toHex(expected));
    assert.match(claims.ueid ?? "", /^SIMULATED:GH100:[0-9A-F]{16}$/);
    assert.match(claims.trustAnchor.name, /^simulated GPU root /);
    const rootDer = parseRootDer(gpu.rootPem);
    assert.equal(
      claims.trustAnchor.fingerprint,
      toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", rootDer))),
    );
    assert.notEqual(claims.trustAnchor.fingerprint, NVIDIA_DEVICE_ROOT_SHA256);
  });

  it("fails without its root exactly like an unknown root", async () => {
    const expected = nonce();
    const attestation = await gpu.collect(expected);
    for (const roots of [undefined, [], [other.rootPem]]) {
      const result = await verify(attestation, expected, roots);
      assert.deepEqual(failed(result), ["nvidia.chain.untrusted_root"]);
      assert.equal(result.claims, undefined);
      assert.equal(
        result.checks.some((c) => c.code === "nvidia.simulated"),
        false,
      );
    }
    const chain = await verifyGpuCertChain(gpu.chainPem, { now: new Date() });
    assert.deepEqual(failed(chain), ["nvidia.chain.untrusted_root"]);
    assert.equal(chain.trustAnchor, undefined);
  });

  it("verifies a chain that stops below its root when the root is passed", async () => {
    const leafOnly = gpu.chainPem.slice(0, gpu.chainPem.indexOf(gpu.rootPem));
    const chain = await verifyGpuCertChain(leafOnly, {
      now: new Date(),
      simulatedRoots: [gpu.rootPem],
    });
    assert.deepEqual(failed(chain), []);
    assert.equal(chain.trustAnchor?.simulated, true);
    const without = await verifyGpuCertChain(leafOnly, { now: new Date() });
    assert.deepEqual(failed(without), ["nvidia.chain.too_short"]);
  });

  it("leaves real evidence anchored at NVIDIA's root", async () => {
    const [input] = parseGpuEvidenceInput(vectorText(SAMPLE, "report_hex"));
    assert.ok(input);
    const evidence = parseGpuEvidence(input.evidence);
    const result = await verifyGpuEvidence(evidence, vectorText(SAMPLE, "cert_chain"), {
      now: NOW,
      nonce: evidence.request.nonce,
      simulatedRoots: [gpu.rootPem],
    });
    assert.deepEqual(failed(result), []);
    assert.equal(
      result.checks.some((c) => c.code === "nvidia.simulated"),
      false,
    );
    assert.deepEqual(result.claims?.trustAnchor, {
      name: "NVIDIA Device Identity CA",
      fingerprint: NVIDIA_DEVICE_ROOT_SHA256,
    });
  });

  it("refuses a simulated root that is not a certificate", async () => {
    const attestation = await gpu.collect(nonce(1));
    await assert.rejects(verify(attestation, nonce(1), ["not a PEM"]), (error: unknown) => {
      assert.ok(error instanceof ParseError);
      assert.equal(error.code, "certificate.malformed");
      assert.match(error.field, /simulated GPU root 1/);
      return true;
    });
  });

  it("fails for another nonce", async () => {
    const attestation = await gpu.collect(nonce(1));
    const result = await verify(attestation, nonce(2), [gpu.rootPem]);
    assert.deepEqual(failed(result), ["nvidia.nonce"]);
    assert.equal(result.claims, undefined);
  });

  it("signs the first 32 bytes of a longer nonce and refuses a shorter one", async () => {
    const long = crypto.getRandomValues(new Uint8Array(64));
    const result = await verify(await gpu.collect(long), long, [gpu.rootPem]);
    assert.deepEqual(failed(result), []);
    await assert.rejects(gpu.collect(new Uint8Array(31)), { code: "nvidia.simulated.input" });
  });

  it("fails when any signed byte is flipped", async () => {
    const expected = nonce();
    const { evidence, certificates } = await gpu.collect(expected);
    const parsed = parseGpuEvidence(evidence);
    const block = parsed.response.blocks[3];
    const [firstOpaque] = parsed.response.opaque;
    const driver = parsed.response.opaque.find((f) => f.name === "driver_version");
    assert.ok(block && firstOpaque && driver);
    const signature = ["nvidia.signature"];
    const positions = [
      ["measurement", block.offset + 10, signature],
      // The responder nonce ends 2 bytes (OpaqueLength) before the first opaque field.
      ["responder nonce", firstOpaque.offset - 2 - 16, signature],
      ["request nonce", 10, ["nvidia.nonce", ...signature]],
      ["driver version", driver.offset + 4, signature],
      ["signature", evidence.length - 1, signature],
    ] as const;
    for (const [what, at, codes] of positions) {
      const bytes = evidence.slice();
      bytes[at] = (bytes[at] as number) ^ 0x01;
      const result = await verify({ evidence: bytes, certificates }, expected, [gpu.rootPem]);
      assert.deepEqual(failed(result), codes, what);
      assert.equal(result.claims, undefined, what);
    }
  });

  it("reports its configured measurements, driver and VBIOS in the claims", async () => {
    const measurements = { 1: "aa".repeat(48), 5: "BB".repeat(48), 9: "0102" };
    const custom = await createSimulatedGpu({
      arch: "HOPPER",
      driverVersion: "570.124.06",
      vbiosVersion: "96.00.cf.00.02",
      measurements,
    });
    const expected = nonce();
    const result = await verify(await custom.collect(expected), expected, [custom.rootPem]);
    assert.deepEqual(failed(result), []);
    const claims = result.claims;
    assert.ok(claims);
    assert.deepEqual(claims.measurements, { 1: "aa".repeat(48), 5: "bb".repeat(48), 9: "0102" });
    assert.equal(claims.driverVersion, "570.124.06");
    assert.equal(claims.vbiosVersion, "96.00.cf.00.02");
    assert.deepEqual(claims.measurementCount, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const policy = appraiseGpu(claims, {
      minimumDriverVersion: "570",
      minimumVbiosVersion: "96.00.cf.00.02",
      measurements: { 5: ["bb".repeat(48)] },
      ccMode: "attested elsewhere",
      allowUnknownRevocation: true,
    });
    assert.deepEqual(failed({ checks: policy }), []);
  });

  it("reports 64 stable default measurements and its certificate's FWID", async () => {
    const [a, b] = await Promise.all(
      [gpu, other].map(async (g) => {
        const expected = nonce();
        return (await verify(await g.collect(expected), expected, [g.rootPem])).claims;
      }),
    );
    assert.ok(a && b);
    assert.equal(Object.keys(a.measurements).length, 64);
    assert.deepEqual(a.measurements, b.measurements);
    assert.notEqual(a.fwid, b.fwid);
    assert.equal(a.driverVersion, "550.90.07");
    assert.equal(a.vbiosVersion, "96.00.9f.00.01");
  });

  it("refuses bad options when created", async () => {
    const bad: CreateSimulatedGpuOptions[] = [
      { vbiosVersion: "9.6" },
      { driverVersion: "" },
      { measurements: { 0: "aa" } },
      { measurements: { 1: "zz" } },
      { measurements: {} },
    ];
    for (const options of bad) {
      await assert.rejects(createSimulatedGpu(options), { code: "nvidia.simulated.input" });
    }
  });

  it("survives export and import", async () => {
    const jwk = await gpu.exportPrivateJwk();
    assert.equal(jwk.crv, "P-384");
    const restored = await importSimulatedGpu(jwk, gpu.chainPem);
    assert.equal(restored.rootPem, gpu.rootPem);
    const expected = nonce();
    const result = await verify(await restored.collect(expected), expected, [gpu.rootPem]);
    assert.deepEqual(failed(result), []);
    const original = await verify(await gpu.collect(expected), expected, [gpu.rootPem]);
    assert.equal(result.claims?.fwid, original.claims?.fwid);
    assert.deepEqual(result.claims?.measurements, original.claims?.measurements);
  });

  it("refuses an import whose key or chain does not fit", async () => {
    const jwk = await gpu.exportPrivateJwk();
    await assert.rejects(importSimulatedGpu(await other.exportPrivateJwk(), gpu.chainPem), {
      code: "nvidia.simulated.key",
    });
    const { d: _, ...publicJwk } = jwk;
    await assert.rejects(importSimulatedGpu(publicJwk, gpu.chainPem), {
      code: "nvidia.simulated.key",
    });
    await assert.rejects(importSimulatedGpu({ ...jwk, crv: "P-256" }, gpu.chainPem), {
      code: "nvidia.simulated.key",
    });
    await assert.rejects(importSimulatedGpu(jwk, gpu.rootPem), { code: "nvidia.simulated.chain" });
    const swapped = gpu.chainPem.replace(gpu.rootPem, other.rootPem);
    await assert.rejects(importSimulatedGpu(jwk, swapped), { code: "nvidia.simulated.chain" });
    await assert.rejects(importSimulatedGpu(jwk, "nothing"), { code: "certificate.malformed" });
  });
});

function parseRootDer(pem: string): Uint8Array<ArrayBuffer> {
  const body = pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}
