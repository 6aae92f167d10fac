import "reflect-metadata";
import assert from "node:assert/strict";
import { createHash, sign, webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { CloisterError, compareMeasurements, NVIDIA_RIM_ROOT_SHA256 } from "@cloister/core";
import * as x509 from "@peculiar/x509";
import { C14nCanonicalization, type SignatureAlgorithm, SignedXml } from "xml-crypto";
import { TESTVECTORS, vectorEntry } from "../../../core/test/support/testvectors.js";
import { nodeRimVerifier } from "../../src/node/nvidia-rim.js";

const entry = vectorEntry("nvidia/nvtrust-h100-sample");
const file = (role: string) => readFileSync(`${TESTVECTORS}${entry.files[role]}`, "utf8");
const driverXml = file("driver_rim");
const vbiosXml = file("vbios_rim");
const verifier = nodeRimVerifier();
/** Inside every certificate's validity window of both sample RIMs (leaves: 2023-06-23/27 to 2025-06-22/26). */
const WITHIN = new Date("2024-06-01T00:00:00Z");

async function refusal(promise: Promise<unknown>, code: string): Promise<CloisterError> {
  const error = await promise.then(
    () => assert.fail(`expected a refusal with ${code}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof CloisterError, String(error));
  assert.equal(error.code, code, error.message);
  return error;
}

describe("nodeRimVerifier: the nvtrust sample RIMs", () => {
  test("the driver RIM verifies, with its recorded values", async () => {
    const { rim, signer } = await verifier.verify(driverXml, { now: WITHIN });
    assert.equal(rim.product, "GH100");
    assert.equal(rim.colloquialVersion, "545.00");
    assert.equal(rim.firmwareVersion, "545.00");
    assert.equal(
      rim.tagId,
      "f0d3a263ab9ef4b93c8fc9727493b61a979814cbf31c07614842a9486b84db8c6cb2c94fb3d5d55992fc482ab495df0d",
    );
    assert.equal(rim.measurements.length, 64);
    assert.deepEqual(
      rim.measurements.filter((m) => m.active).map((m) => m.index),
      [7, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40],
    );
    const m35 = rim.measurements.find((m) => m.index === 35);
    assert.equal(m35?.algorithm, "sha384");
    assert.equal(m35?.size, 48);
    assert.deepEqual(m35?.alternatives, [
      "261148337ccf08ed5351584a95557b245326cbc5ef511ca5b22bc162b9932529fc118f0fe6939dd214545c9388158781",
      "c0962ed90316ecea959dd0b6632d0c4f4d3bfbf72c4cd9031efe48154ed9ca59b41cd20ce06a7f9ca5cd8b0687cf1258",
    ]);
    assert.match(signer.subject, /CN=HCC RIM L4 Signer/);
    assert.equal(signer.anchor.fingerprint, NVIDIA_RIM_ROOT_SHA256);
    assert.equal(signer.expires.toISOString(), "2025-06-26T06:10:12.000Z");
  });

  test("the VBIOS RIM verifies, with its recorded values", async () => {
    const { rim, signer } = await verifier.verify(vbiosXml, { now: WITHIN });
    assert.equal(rim.product, "GH100");
    assert.equal(rim.colloquialVersion, "96.00.5E.00.01");
    assert.equal(rim.firmwareVersion, "96.00.5e.00.01");
    assert.equal(rim.measurements.length, 64);
    assert.equal(rim.measurements.find((m) => m.index === 12)?.alternatives.length, 4);
    assert.equal(signer.expires.toISOString(), "2025-06-22T09:38:54.000Z");
  });

  test("the sample RIMs are not those of the sample report: only some indexes match", async () => {
    // The report is driver 550.90.07 / VBIOS 96.00.9f.00.01; the RIMs are 545.00 / 96.00.5E.00.01.
    const claims = JSON.parse(file("expected_claims")) as {
      measurements: Record<string, string>;
    };
    // The claims number SPDM blocks from 1; RIM indexes count from 0.
    const runtime = new Map(
      Object.entries(claims.measurements).map(([k, v]) => [Number(k) - 1, v] as const),
    );
    const driver = (await verifier.verify(driverXml, { now: WITHIN })).rim;
    const vbios = (await verifier.verify(vbiosXml, { now: WITHIN })).rim;
    const failing = (checks: ReturnType<typeof compareMeasurements>) =>
      checks
        .filter((c) => c.code === "nvidia.rim.measurement_mismatch")
        .map((c) => Number(/index (\d+)/.exec(c.message)?.[1]));
    assert.deepEqual(
      failing(compareMeasurements(driver, runtime)),
      [7, 21, 22, 25, 26, 27, 29, 30, 31, 32, 34, 36, 37, 39, 40],
    );
    assert.deepEqual(failing(compareMeasurements(vbios, runtime)), [1, 2, 3, 9, 11]);
    const both = compareMeasurements([driver, vbios], runtime);
    assert.ok(both.every((c) => c.status === "fail"));
    assert.equal(both.length, 20);
  });
});

describe("nodeRimVerifier: refusals", () => {
  test("a RIM with one digit of a golden measurement changed fails the signature", async () => {
    const good =
      "0e0ee161b59bf124ce6b6dca6efa7616d28077862c0e57dca7d5efd63d00eeed4851922941e846a38c464cbedbc168d9";
    assert.ok(driverXml.includes(good));
    const tampered = driverXml.replace(good, `1${good.slice(1)}`);
    await refusal(verifier.verify(tampered, { now: WITHIN }), "nvidia.rim.signature");
  });

  test("a RIM whose inactive entry is switched on fails the signature", async () => {
    const tampered = driverXml.replace('index="0" active="False"', 'index="0" active="True"');
    assert.notEqual(tampered, driverXml);
    await refusal(verifier.verify(tampered, { now: WITHIN }), "nvidia.rim.signature");
  });

  test("a changed SignatureValue fails the signature", async () => {
    const tampered = driverXml.replace("<ds:SignatureValue>/BgnH", "<ds:SignatureValue>/BgnI");
    assert.notEqual(tampered, driverXml);
    await refusal(verifier.verify(tampered, { now: WITHIN }), "nvidia.rim.signature");
  });

  test("expired or not yet valid signing certificates", async () => {
    const late = await refusal(
      verifier.verify(driverXml, { now: new Date("2026-11-26T00:00:00Z") }),
      "nvidia.rim.expired",
    );
    assert.match(late.message, /HCC RIM L4 Signer/);
    await refusal(
      verifier.verify(vbiosXml, { now: new Date("2023-06-01T00:00:00Z") }),
      "nvidia.rim.expired",
    );
  });

  test("an embedded intermediate removed breaks the chain", async () => {
    const certs = [...driverXml.matchAll(/<ds:X509Certificate>[^<]*<\/ds:X509Certificate>/g)];
    assert.equal(certs.length, 4);
    const withoutL3 = driverXml.replace(certs[1]?.[0] ?? "", "");
    await refusal(verifier.verify(withoutL3, { now: WITHIN }), "nvidia.rim.chain");
  });

  test("a RIM validly signed under an untrusted root is refused by the chain", async () => {
    const forged = await resignWithOwnChain(driverXml);
    await refusal(verifier.verify(forged, { now: WITHIN }), "nvidia.rim.chain");
  });

  test("malformed documents", async () => {
    await refusal(verifier.verify("<SoftwareIdentity", { now: WITHIN }), "nvidia.rim.malformed");
    const unsigned = driverXml.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, "");
    await refusal(verifier.verify(unsigned, { now: WITHIN }), "nvidia.rim.malformed");
  });
});

const ECDSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384";
const SHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384";
const C14N11 = "http://www.w3.org/2006/12/xml-c14n11";

/** The same RIM content, signed (validly) by a leaf under a self-made P-384 root. */
async function resignWithOwnChain(xml: string): Promise<string> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = { name: "ECDSA", namedCurve: "P-384", hash: "SHA-384" };
  const rootKeys = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const leafKeys = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const validity = { notBefore: new Date("2024-01-01Z"), notAfter: new Date("2030-01-01Z") };
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    name: "CN=Not NVIDIA RIM Root",
    keys: rootKeys as CryptoKeyPair,
    signingAlgorithm: alg,
    ...validity,
  });
  const leaf = await x509.X509CertificateGenerator.create({
    subject: "CN=HCC RIM L4 Signer",
    issuer: root.subject,
    publicKey: leafKeys.publicKey as CryptoKey,
    signingKey: rootKeys.privateKey as CryptoKey,
    signingAlgorithm: alg,
    ...validity,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", leafKeys.privateKey));
  const privateKey = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString("base64")}\n-----END PRIVATE KEY-----`;
  class Ecdsa implements SignatureAlgorithm {
    getSignature(material: string | Buffer, key: string | Buffer): string {
      return sign("sha384", Buffer.from(material), { key, dsaEncoding: "ieee-p1363" }).toString(
        "base64",
      );
    }
    verifySignature(): boolean {
      return false;
    }
    getAlgorithmName(): string {
      return ECDSA_SHA384;
    }
  }
  const b64 = (c: x509.X509Certificate) => Buffer.from(c.rawData).toString("base64");
  const signer = new SignedXml({
    privateKey,
    canonicalizationAlgorithm: C14N11,
    signatureAlgorithm: ECDSA_SHA384,
    getKeyInfoContent: (args) => {
      const p = args?.prefix ?? "ds";
      const cert = (c: x509.X509Certificate) =>
        `<${p}:X509Certificate>${b64(c)}</${p}:X509Certificate>`;
      return `<${p}:X509Data>${cert(leaf)}${cert(root)}</${p}:X509Data>`;
    },
  });
  signer.SignatureAlgorithms[ECDSA_SHA384] = Ecdsa as never;
  signer.HashAlgorithms[SHA384] = class {
    getHash(text: string): string {
      return createHash("sha384").update(text, "utf8").digest("base64");
    }
    getAlgorithmName(): string {
      return SHA384;
    }
  };
  signer.CanonicalizationAlgorithms[C14N11] = C14nCanonicalization;
  signer.addReference({
    xpath: "/*",
    transforms: ["http://www.w3.org/2000/09/xmldsig#enveloped-signature", C14N11],
    digestAlgorithm: SHA384,
    uri: "",
    isEmptyUri: true,
  });
  const unsigned = xml.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, "");
  signer.computeSignature(unsigned, { prefix: "ds" });
  return signer.getSignedXml();
}
