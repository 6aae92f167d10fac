import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CloisterError } from "../../src/errors.js";
import {
  compareResourceNames,
  inspectModelSignature,
  normalizeResourceName,
  signModel,
  verifyModelSignature,
} from "../../src/models/index.js";
import { vectorEntry } from "../support/testvectors.js";
import {
  bundleOf,
  generateP384,
  MODEL_VECTORS,
  modelFiles,
  openBundle,
  spkiPem,
} from "./support.js";

const NOW = new Date("2026-01-01T00:00:00Z");

/** Same keys at every level; arrays compared element by element. */
function assertSameShape(ours: unknown, theirs: unknown, path = "$"): void {
  if (Array.isArray(theirs)) {
    assert.ok(Array.isArray(ours), `${path} is an array`);
    assert.equal(ours.length, theirs.length, `${path} length`);
    for (const [i, item] of theirs.entries()) assertSameShape(ours[i], item, `${path}[${i}]`);
  } else if (typeof theirs === "object" && theirs !== null) {
    assert.ok(typeof ours === "object" && ours !== null, `${path} is an object`);
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort(), `${path} keys`);
    for (const key of Object.keys(theirs)) {
      assertSameShape(
        (ours as Record<string, unknown>)[key],
        (theirs as Record<string, unknown>)[key],
        `${path}.${key}`,
      );
    }
  } else {
    assert.equal(typeof ours, typeof theirs, `${path} type`);
  }
}

describe("signModel", () => {
  for (const curve of ["P-256", "P-384", "P-521"] as const) {
    test(`signs with ${curve} and verifies`, async () => {
      const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: curve }, true, [
        "sign",
        "verify",
      ])) as CryptoKeyPair;
      const files = [
        { name: "weights/model.safetensors", sha256: "11".repeat(32) },
        { name: "config.json", sha256: "22".repeat(32) },
      ];
      const publicKeyPem = await spkiPem(keys.publicKey);
      const bundle = await signModel({
        files,
        modelName: "my-model",
        key: keys.privateKey,
        identity: { method: "key", publicKeyPem },
        ignorePaths: ["model.sig", ".git"],
      });
      const result = await verifyModelSignature(bundle, {
        files,
        trust: { method: "key", keys: [publicKeyPem] },
        now: NOW,
      });
      assert.deepEqual(result.reasons, []);
      assert.equal(result.verified, true);
      assert.deepEqual(result.ignorePaths, ["model.sig", ".git"]);
      assert.deepEqual(
        result.resources.map((r) => r.name),
        ["config.json", "weights/model.safetensors"],
      );
      assert.equal(result.checks.find((c) => c.code === "model.key.hint")?.status, "pass");
    });
  }

  test("the key bundle has the fixture's shape (model_signing 1.1 key method)", async () => {
    const entry = vectorEntry("model-signing/v1.1.0-elliptic-key");
    const theirs = openBundle(bundleOf(entry));
    const keys = await generateP384();
    const ours = openBundle(
      await signModel({
        files: modelFiles(entry),
        modelName: theirs.statement.subject[0]?.name ?? "",
        key: keys.privateKey,
        identity: { method: "key", publicKeyPem: await spkiPem(keys.publicKey) },
        ignorePaths: theirs.statement.predicate.serialization.ignore_paths ?? [],
      }),
    );
    assertSameShape(ours.json, theirs.json);
    assert.equal(ours.json.mediaType, theirs.json.mediaType);
    assert.equal(ours.json.dsseEnvelope.payloadType, theirs.json.dsseEnvelope.payloadType);
    // Same files, same name, same ignore paths: the very same statement.
    assert.deepEqual(ours.statement, theirs.statement);
  });

  test("the certificate bundle has the fixture's shape (model_signing 1.1 certificate method)", async () => {
    const entry = vectorEntry("model-signing/v1.1.0-certificate");
    const theirs = openBundle(bundleOf(entry));
    const chain = (
      theirs.json.verificationMaterial.x509CertificateChain as {
        certificates: { rawBytes: string }[];
      }
    ).certificates;
    const pem = chain.map(
      (c) => `-----BEGIN CERTIFICATE-----\n${c.rawBytes}\n-----END CERTIFICATE-----\n`,
    );
    // The fixture's private key is not published: sign with another key, which signModel refuses
    // for this chain, and compare the shape of a bundle built with a key that does pair.
    const keys = await generateP384();
    await assert.rejects(
      signModel({
        files: modelFiles(entry),
        modelName: "m",
        key: keys.privateKey,
        identity: { method: "certificate", certificateChain: pem },
      }),
      (e: unknown) => e instanceof CloisterError && e.code === "model.sign.key_mismatch",
    );
    const key = openBundle(
      await signModel({
        files: modelFiles(entry),
        modelName: "m",
        key: keys.privateKey,
        identity: { method: "key", publicKeyPem: await spkiPem(keys.publicKey) },
      }),
    );
    assertSameShape(key.json.dsseEnvelope, theirs.json.dsseEnvelope);
  });

  test("payloads are formatted as Python's json.dumps(indent=2), as in every fixture", () => {
    for (const entry of MODEL_VECTORS) {
      const payload = Buffer.from(
        openBundle(bundleOf(entry)).json.dsseEnvelope.payload,
        "base64",
      ).toString("utf8");
      assert.equal(JSON.stringify(JSON.parse(payload), null, 2), payload, entry.id);
    }
  });

  test("non-ASCII names are escaped as Python escapes them", async () => {
    const keys = await generateP384();
    const bundle = await signModel({
      files: [{ name: "modèle/\u{1d538}.bin", sha256: "33".repeat(32) }],
      modelName: "m",
      key: keys.privateKey,
      identity: { method: "key", publicKeyPem: await spkiPem(keys.publicKey) },
    });
    const payload = Buffer.from(openBundle(bundle).json.dsseEnvelope.payload, "base64").toString(
      "latin1",
    );
    assert.ok(payload.includes('"mod\\u00e8le/\\ud835\\udd38.bin"'));
    assert.equal(inspectModelSignature(bundle).resources[0]?.name, "modèle/\u{1d538}.bin");
  });

  test("a single-file model is the one resource '.'", async () => {
    const keys = await generateP384();
    const files = [{ name: ".", sha256: "44".repeat(32) }];
    const publicKeyPem = await spkiPem(keys.publicKey);
    const bundle = await signModel({
      files,
      modelName: "model.gguf",
      key: keys.privateKey,
      identity: { method: "key", publicKeyPem },
    });
    const result = await verifyModelSignature(bundle, {
      files,
      trust: { method: "key", keys: [publicKeyPem] },
      now: NOW,
    });
    assert.equal(result.verified, true);
    await assert.rejects(
      signModel({
        files: [...files, { name: "x", sha256: "55".repeat(32) }],
        modelName: "m",
        key: keys.privateKey,
        identity: { method: "key", publicKeyPem },
      }),
      (e: unknown) => e instanceof CloisterError && e.code === "model.sign.single_file",
    );
  });

  test("resources are ordered as PurePosixPath sorts them, and names normalised as it prints them", () => {
    const names = ["b", "a-c", "a/b", "a/a", "\u{1d538}", "\uffff"];
    assert.deepEqual([...names].sort(compareResourceNames), [
      "a/a",
      "a/b",
      "a-c",
      "b",
      "\uffff",
      "\u{1d538}",
    ]);
    assert.equal(normalizeResourceName("./a//b/"), "a/b");
    assert.equal(normalizeResourceName("./"), ".");
  });
});
