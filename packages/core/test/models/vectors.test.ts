import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  inspectModelSignature,
  type KeylessVerifier,
  type ModelTrust,
  verifyModelSignature,
} from "../../src/models/index.js";
import { vectorEntry } from "../support/testvectors.js";
import { bundleOf, MODEL_VECTORS, modelFiles, read, SIGNING_KEY_PUB } from "./support.js";

/**
 * Every signed model of testvectors section 14 verifies with the trust its source test uses.
 * Keyless bundles are checked end to end in the server package (sigstore-js); here a stand-in
 * keyless verifier shows that core still checks the statement and every file for them.
 */

const NOW = new Date("2026-01-01T00:00:00Z");

/** Accepts the bundle for the one identity the vectors were signed by. */
const STAND_IN: KeylessVerifier = {
  async verify(_bundle, expected) {
    return { ...expected, integratedTime: new Date("2025-05-03T01:10:02Z") };
  },
};

function trustFor(files: Readonly<Record<string, string>>): ModelTrust {
  if (files.public_key) return { method: "key", keys: [read(files.public_key)] };
  if (files.root_ca) return { method: "certificate", certificates: [read(files.root_ca)] };
  return {
    method: "sigstore",
    identities: [
      { identity: "stefanb@us.ibm.com", issuer: "https://sigstore.verify.ibm.com/oauth2" },
    ],
  };
}

describe("model-signing vectors (index.json)", () => {
  test("the index lists the twelve signed models", () => {
    assert.equal(MODEL_VECTORS.length, 12);
  });

  for (const entry of MODEL_VECTORS) {
    test(`${entry.id} verifies`, async () => {
      const trust = trustFor(entry.files);
      const result = await verifyModelSignature(bundleOf(entry), {
        files: modelFiles(entry),
        trust,
        now: NOW,
        keyless: STAND_IN,
      });
      assert.deepEqual(result.reasons, []);
      assert.equal(result.verified, true);
      assert.equal(result.method, trust.method);
      const parsed = entry.parsed as { subject: { digest: { sha256: string } } };
      assert.equal(result.digest, `sha256:${parsed.subject.digest.sha256}`);
      assert.ok(result.resources.length >= 1);
      if (trust.method === "key") {
        assert.equal(
          result.signer,
          "key sha256:c1e49d63327f85c7e2971aefd30b5a0d1c6b9b5e1a892e7f5fba995adace816d",
        );
      }
      if (trust.method === "sigstore") {
        assert.equal(result.signer, "stefanb@us.ibm.com (https://sigstore.verify.ibm.com/oauth2)");
      }
      const declared =
        (entry.parsed as { serialization?: { ignore_paths?: string[] } }).serialization
          ?.ignore_paths ??
        (entry.parsed as { ignore_paths?: string[] | null }).ignore_paths ??
        [];
      assert.deepEqual([...result.ignorePaths].sort(), [...declared].sort());
    });

    test(`${entry.id} inspects without verifying`, () => {
      const summary = inspectModelSignature(bundleOf(entry));
      const expected = entry.files.public_key
        ? "key"
        : entry.files.root_ca
          ? "certificate"
          : "sigstore";
      assert.equal(summary.method, expected);
      assert.equal(summary.mediaType, "application/vnd.dev.sigstore.bundle.v0.3+json");
      const parsed = entry.parsed as { publicKey_hint?: string | null; resources: unknown[] };
      if (expected === "key") assert.equal(summary.keyHint, parsed.publicKey_hint ?? undefined);
      assert.equal(summary.resources.length, parsed.resources.length);
      if (expected === "certificate") assert.equal(summary.certificates.length, 2);
      if (expected === "sigstore") {
        assert.deepEqual(summary.certificates[0]?.subjectAltNames, ["stefanb@us.ibm.com"]);
      }
    });
  }

  // verify_test.py: the v0.3.1 and v1.0.0 certificate bundles also verify with the bare key.
  for (const version of ["v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0"]) {
    test(`${version}-certificate also verifies with the signing key alone`, async () => {
      const entry = vectorEntry(`model-signing/${version}-certificate`);
      const result = await verifyModelSignature(bundleOf(entry), {
        files: modelFiles(entry),
        trust: { method: "key", keys: [read(SIGNING_KEY_PUB)] },
        now: NOW,
      });
      assert.equal(result.verified, true);
      assert.equal(result.checks.find((c) => c.code === "model.key.hint")?.status, "warn");
    });
  }

  test("certificate bundles verify with the intermediate alone as trust anchor", async () => {
    const entry = vectorEntry("model-signing/v1.1.0-certificate");
    const result = await verifyModelSignature(bundleOf(entry), {
      files: modelFiles(entry),
      trust: { method: "certificate", certificates: [read(entry.files.intermediate_ca as string)] },
      now: NOW,
    });
    assert.equal(result.verified, true);
  });

  test("certificate bundles are judged at the signing certificate's issue time, as model_signing does", async () => {
    const entry = vectorEntry("model-signing/v1.1.0-certificate");
    const later = new Date("2040-01-01T00:00:00Z");
    const result = await verifyModelSignature(bundleOf(entry), {
      files: modelFiles(entry),
      trust: { method: "certificate", certificates: [read(entry.files.root_ca as string)] },
      now: later,
    });
    assert.equal(result.verified, true);
    assert.equal(result.checks.find((c) => c.code === "model.certificate.expired")?.status, "warn");
  });
});
