import "../../src/attest/pki/x509.js";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  BasicConstraintsExtension,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  X509CertificateGenerator,
} from "@peculiar/x509";
import { CloisterError } from "../../src/errors.js";
import {
  type ModelFileDigest,
  type ModelTrust,
  preAuthEncoding,
  publicKeyHint,
  signModel,
  verifyModelSignature,
} from "../../src/models/index.js";
import { signEcdsa } from "../../src/models/keys.js";
import { vectorEntry } from "../support/testvectors.js";
import {
  bundleOf,
  ECDSA_P384,
  generateP384,
  modelFiles,
  openBundle,
  read,
  SIGNING_KEY_PUB,
  spkiPem,
} from "./support.js";

/**
 * The mutations of index.json `model-signing/negative-mutations`, each failing with its own
 * reason. Where the source re-signs a changed statement (type, predicate, subject digest), the
 * test signs it with a generated key, so that only the mutation is wrong.
 */

const NOW = new Date("2026-01-01T00:00:00Z");
const KEY_VECTOR = vectorEntry("model-signing/v1.1.0-elliptic-key");
const KEY_TRUST: ModelTrust = { method: "key", keys: [read(SIGNING_KEY_PUB)] };
const mutations = vectorEntry("model-signing/negative-mutations");

async function reasonsFor(
  bundle: string,
  files: readonly ModelFileDigest[],
  trust: ModelTrust,
): Promise<readonly string[]> {
  const result = await verifyModelSignature(bundle, { files, trust, now: NOW });
  assert.equal(result.verified, false);
  assert.ok(result.reasons.length > 0);
  return result.reasons;
}

/** Re-signs the vector's bundle with `key` after `change` rewrote its statement or type. */
async function resigned(
  key: CryptoKeyPair,
  change: (open: ReturnType<typeof openBundle>) => void,
): Promise<string> {
  const open = openBundle(bundleOf(KEY_VECTOR));
  change(open);
  const payload = new TextEncoder().encode(JSON.stringify(open.statement, null, 2));
  const { dsseEnvelope } = open.json;
  const signature = await signEcdsa(
    key.privateKey,
    preAuthEncoding(dsseEnvelope.payloadType, payload),
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", key.publicKey));
  open.json.verificationMaterial.publicKey = { hint: await publicKeyHint(spki) };
  dsseEnvelope.payload = Buffer.from(payload).toString("base64");
  dsseEnvelope.signatures = [{ sig: Buffer.from(signature).toString("base64") }];
  return JSON.stringify(open.json);
}

describe("model-signing negative mutations", () => {
  const files = modelFiles(KEY_VECTOR);

  test("the index still lists the source's mutations", () => {
    const asserts = Object.keys(mutations.source_asserts ?? {});
    assert.equal(asserts.length, 9);
  });

  test("an unsigned file (or symlink) in the model: model.files.extra", async () => {
    const extra = [...files, { name: "unsigned.bin", sha256: "00".repeat(32) }];
    assert.deepEqual(await reasonsFor(bundleOf(KEY_VECTOR), extra, KEY_TRUST), [
      "model.files.extra",
    ]);
  });

  test("an unsigned file is tolerated only when asked (--ignore_unsigned_files)", async () => {
    const extra = [...files, { name: "unsigned.bin", sha256: "00".repeat(32) }];
    const result = await verifyModelSignature(bundleOf(KEY_VECTOR), {
      files: extra,
      trust: KEY_TRUST,
      now: NOW,
      ignoreUnsignedFiles: true,
    });
    assert.equal(result.verified, true);
    assert.equal(result.checks.find((c) => c.code === "model.files.unsigned")?.status, "warn");
  });

  test("a signed file changed: model.files.changed", async () => {
    const changed = files.map((f, i) => (i === 0 ? { ...f, sha256: "ab".repeat(32) } : f));
    assert.deepEqual(await reasonsFor(bundleOf(KEY_VECTOR), changed, KEY_TRUST), [
      "model.files.changed",
    ]);
  });

  test("a signed file missing: model.files.missing", async () => {
    assert.deepEqual(await reasonsFor(bundleOf(KEY_VECTOR), files.slice(1), KEY_TRUST), [
      "model.files.missing",
    ]);
  });

  test("another key, bundle with hint: model.key.mismatch", async () => {
    const other = await generateP384();
    const trust: ModelTrust = { method: "key", keys: [await spkiPem(other.publicKey)] };
    assert.deepEqual(await reasonsFor(bundleOf(KEY_VECTOR), files, trust), ["model.key.mismatch"]);
  });

  test("another key, bundle without hint: model.signature.invalid", async () => {
    const entry = vectorEntry("model-signing/v1.0.1-elliptic-key");
    const other = await generateP384();
    const trust: ModelTrust = { method: "key", keys: [await spkiPem(other.publicKey)] };
    assert.deepEqual(await reasonsFor(bundleOf(entry), modelFiles(entry), trust), [
      "model.signature.invalid",
    ]);
  });

  test("a publicKey.hint that names another key: model.key.mismatch", async () => {
    const open = openBundle(bundleOf(KEY_VECTOR));
    open.json.verificationMaterial.publicKey = { hint: "00".repeat(32) };
    assert.deepEqual(await reasonsFor(JSON.stringify(open.json), files, KEY_TRUST), [
      "model.key.mismatch",
    ]);
  });

  test("a tampered DSSE payload: model.signature.invalid", async () => {
    const open = openBundle(bundleOf(KEY_VECTOR));
    open.statement.subject[0] = {
      name: "renamed",
      digest: open.statement.subject[0]?.digest ?? { sha256: "" },
    };
    open.json.dsseEnvelope.payload = Buffer.from(JSON.stringify(open.statement, null, 2)).toString(
      "base64",
    );
    assert.deepEqual(await reasonsFor(JSON.stringify(open.json), files, KEY_TRUST), [
      "model.signature.invalid",
    ]);
  });

  test("a changed payloadType, not re-signed: model.payload.type and model.signature.invalid", async () => {
    const open = openBundle(bundleOf(KEY_VECTOR));
    open.json.dsseEnvelope.payloadType = "application/json";
    assert.deepEqual(await reasonsFor(JSON.stringify(open.json), files, KEY_TRUST), [
      "model.payload.type",
      "model.signature.invalid",
    ]);
  });

  test("a validly signed payloadType other than in-toto: model.payload.type", async () => {
    const key = await generateP384();
    const bundle = await resigned(key, (open) => {
      open.json.dsseEnvelope.payloadType = "application/json";
    });
    const trust: ModelTrust = { method: "key", keys: [await spkiPem(key.publicKey)] };
    assert.deepEqual(await reasonsFor(bundle, files, trust), ["model.payload.type"]);
  });

  test("a validly signed statement with another _type: model.statement.type", async () => {
    const key = await generateP384();
    const bundle = await resigned(key, (open) => {
      open.statement._type = "https://in-toto.io/Statement/v0.1";
    });
    const trust: ModelTrust = { method: "key", keys: [await spkiPem(key.publicKey)] };
    assert.deepEqual(await reasonsFor(bundle, files, trust), ["model.statement.type"]);
  });

  test("a validly signed statement with another predicate type: model.statement.predicate_type", async () => {
    const key = await generateP384();
    const bundle = await resigned(key, (open) => {
      open.statement.predicateType = "https://model_signing/Digests/v0.1";
    });
    const trust: ModelTrust = { method: "key", keys: [await spkiPem(key.publicKey)] };
    assert.deepEqual(await reasonsFor(bundle, files, trust), ["model.statement.predicate_type"]);
  });

  test("a subject digest that does not cover the resources: model.manifest.inconsistent", async () => {
    const key = await generateP384();
    const bundle = await resigned(key, (open) => {
      const resource = open.statement.predicate.resources[0];
      if (resource) resource.digest = "cd".repeat(32);
    });
    const trust: ModelTrust = { method: "key", keys: [await spkiPem(key.publicKey)] };
    const reasons = await reasonsFor(bundle, files, trust);
    assert.equal(reasons[0], "model.manifest.inconsistent");
  });

  test("a wrong Sigstore identity: model.identity.mismatch", async () => {
    const entry = vectorEntry("model-signing/v1.1.0-sigstore");
    const result = await verifyModelSignature(bundleOf(entry), {
      files: modelFiles(entry),
      trust: {
        method: "sigstore",
        identities: [{ identity: "mallory@example.com", issuer: "https://example.com" }],
      },
      now: NOW,
      keyless: {
        async verify() {
          throw new CloisterError("model.identity.mismatch", "Signed by someone else.");
        },
      },
    });
    assert.equal(result.verified, false);
    assert.deepEqual(result.reasons, ["model.identity.mismatch"]);
  });

  test("keyless verification without a keyless verifier is refused", async () => {
    const entry = vectorEntry("model-signing/v1.1.0-sigstore");
    await assert.rejects(
      verifyModelSignature(bundleOf(entry), {
        files: modelFiles(entry),
        trust: { method: "sigstore", identities: [{ identity: "a", issuer: "b" }] },
        now: NOW,
      }),
      (error: unknown) =>
        error instanceof CloisterError && error.code === "model.keyless.unavailable",
    );
  });

  describe("certificates", () => {
    const certEntry = vectorEntry("model-signing/v1.1.0-certificate");
    const certFiles = modelFiles(certEntry);

    test("a chain to an untrusted CA: model.certificate.chain", async () => {
      const pki = await testPki({ usage: "signing" });
      const trust: ModelTrust = { method: "certificate", certificates: [pki.rootPem] };
      assert.deepEqual(await reasonsFor(bundleOf(certEntry), certFiles, trust), [
        "model.certificate.chain",
      ]);
    });

    test("a bare-key bundle under certificate trust: model.certificate.missing", async () => {
      const trust: ModelTrust = {
        method: "certificate",
        certificates: [read(certEntry.files.root_ca as string)],
      };
      assert.deepEqual(await reasonsFor(bundleOf(KEY_VECTOR), files, trust), [
        "model.certificate.missing",
      ]);
    });

    test("a certificate chain of our own signs and verifies", async () => {
      const pki = await testPki({ usage: "signing" });
      const bundle = await signModel({
        files: certFiles,
        modelName: "model",
        key: pki.leafKeys.privateKey,
        identity: { method: "certificate", certificateChain: [pki.leafPem] },
      });
      const result = await verifyModelSignature(bundle, {
        files: certFiles,
        trust: { method: "certificate", certificates: [pki.rootPem] },
        now: NOW,
      });
      assert.deepEqual(result.reasons, []);
      assert.equal(result.verified, true);
    });

    test("a signing certificate without digitalSignature or codeSigning: model.certificate.usage", async () => {
      const pki = await testPki({ usage: "encipherment" });
      const bundle = await signModel({
        files: certFiles,
        modelName: "model",
        key: pki.leafKeys.privateKey,
        identity: { method: "certificate", certificateChain: [pki.leafPem] },
      });
      const trust: ModelTrust = { method: "certificate", certificates: [pki.rootPem] };
      assert.deepEqual(await reasonsFor(bundle, certFiles, trust), ["model.certificate.usage"]);
    });

    test("a signing certificate whose EKU excludes code signing: model.certificate.usage", async () => {
      const pki = await testPki({ usage: "server-auth" });
      const bundle = await signModel({
        files: certFiles,
        modelName: "model",
        key: pki.leafKeys.privateKey,
        identity: { method: "certificate", certificateChain: [pki.leafPem] },
      });
      const trust: ModelTrust = { method: "certificate", certificates: [pki.rootPem] };
      assert.deepEqual(await reasonsFor(bundle, certFiles, trust), ["model.certificate.usage"]);
    });
  });
});

type Usage = "signing" | "encipherment" | "server-auth";

/** A root and a P-384 leaf it issues, with the key usage the test needs. */
async function testPki(options: { usage: Usage }) {
  const rootKeys = (await crypto.subtle.generateKey(ECDSA_P384, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const leafKeys = await generateP384();
  const signingAlgorithm = { name: "ECDSA", hash: "SHA-384" };
  const notBefore = new Date("2025-01-01T00:00:00Z");
  const notAfter = new Date("2030-01-01T00:00:00Z");
  const root = await X509CertificateGenerator.createSelfSigned({
    name: "CN=test-model-root",
    keys: rootKeys,
    signingAlgorithm,
    notBefore,
    notAfter,
    extensions: [
      new BasicConstraintsExtension(true, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign, true),
    ],
  });
  const usage =
    options.usage === "encipherment"
      ? [new KeyUsagesExtension(KeyUsageFlags.keyEncipherment, true)]
      : options.usage === "server-auth"
        ? [new ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.1"])]
        : [
            new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
            new ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.3"]),
          ];
  const leaf = await X509CertificateGenerator.create({
    subject: "CN=test-model-signer",
    issuer: root.subjectName,
    publicKey: leafKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm,
    serialNumber: "02",
    notBefore,
    notAfter,
    extensions: usage,
  });
  return { rootPem: root.toString("pem"), leafPem: leaf.toString("pem"), leafKeys };
}
