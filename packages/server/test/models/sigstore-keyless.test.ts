import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CloisterError, type ModelTrust, verifyModelSignature } from "@cloister/core";
import { bundleOf, modelFiles } from "../../../core/test/models/support.js";
import { TESTVECTORS, VECTOR_INDEX } from "../../../core/test/support/testvectors.js";
import { createSigstoreKeylessVerifier } from "../../src/models/sigstore-keyless.js";

/**
 * The four keyless vectors of testvectors section 14 verify offline against the vendored
 * trusted root (Fulcio chain, SCT, Rekor entry, and for v1.1.0 the RFC 3161 timestamp), and
 * fail for any other identity or issuer.
 */

const IDENTITY = "stefanb@us.ibm.com";
const ISSUER = "https://sigstore.verify.ibm.com/oauth2";
const NOW = new Date("2026-01-01T00:00:00Z");
const SIGSTORE_VECTORS = VECTOR_INDEX.filter((e) => /^model-signing\/v.*-sigstore$/.test(e.id));

function keylessFor(rootPath: string) {
  return createSigstoreKeylessVerifier(readFileSync(join(TESTVECTORS, rootPath), "utf8"));
}

function trust(identity: string, issuer: string): ModelTrust {
  return { method: "sigstore", identities: [{ identity, issuer }] };
}

describe("Sigstore keyless model signatures (offline)", () => {
  test("the index lists four keyless vectors", () => {
    assert.equal(SIGSTORE_VECTORS.length, 4);
  });

  for (const entry of SIGSTORE_VECTORS) {
    const keyless = keylessFor(entry.files.trusted_root as string);
    const files = modelFiles(entry);

    test(`${entry.id} verifies for ${IDENTITY}`, async () => {
      const result = await verifyModelSignature(bundleOf(entry), {
        files,
        trust: trust(IDENTITY, ISSUER),
        now: NOW,
        keyless,
      });
      assert.deepEqual(result.reasons, []);
      assert.equal(result.verified, true);
      assert.equal(result.signer, `${IDENTITY} (${ISSUER})`);
      const rekor = (entry.parsed as { rekor: { integratedTime: string } }).rekor;
      assert.equal(
        result.signedAt?.toISOString(),
        new Date(rekor.integratedTime.replace(" ", "T")).toISOString(),
      );
    });

    test(`${entry.id} fails for another identity`, async () => {
      const result = await verifyModelSignature(bundleOf(entry), {
        files,
        trust: trust("mallory@us.ibm.com", ISSUER),
        now: NOW,
        keyless,
      });
      assert.equal(result.verified, false);
      assert.deepEqual(result.reasons, ["model.identity.mismatch"]);
    });

    test(`${entry.id} fails for another issuer`, async () => {
      const result = await verifyModelSignature(bundleOf(entry), {
        files,
        trust: trust(IDENTITY, "https://accounts.google.com"),
        now: NOW,
        keyless,
      });
      assert.equal(result.verified, false);
      assert.deepEqual(result.reasons, ["model.identity.mismatch"]);
    });
  }

  test("any of several identities may have signed", async () => {
    const entry = SIGSTORE_VECTORS[0];
    assert.ok(entry);
    const result = await verifyModelSignature(bundleOf(entry), {
      files: modelFiles(entry),
      trust: {
        method: "sigstore",
        identities: [
          { identity: "mallory@us.ibm.com", issuer: ISSUER },
          { identity: IDENTITY, issuer: ISSUER },
        ],
      },
      now: NOW,
      keyless: keylessFor(entry.files.trusted_root as string),
    });
    assert.equal(result.verified, true);
  });

  test("a tampered payload fails as an invalid keyless signature", async () => {
    const entry = SIGSTORE_VECTORS[3];
    assert.ok(entry);
    const json = JSON.parse(bundleOf(entry));
    const payload = Buffer.from(json.dsseEnvelope.payload, "base64");
    payload[10] = (payload[10] as number) ^ 1;
    json.dsseEnvelope.payload = payload.toString("base64");
    const result = await verifyModelSignature(JSON.stringify(json), {
      files: modelFiles(entry),
      trust: trust(IDENTITY, ISSUER),
      now: NOW,
      keyless: keylessFor(entry.files.trusted_root as string),
    });
    assert.equal(result.verified, false);
    assert.deepEqual(result.reasons, ["model.keyless.invalid"]);
  });

  test("a key-signed bundle is not a keyless signature", async () => {
    const entry = VECTOR_INDEX.find((e) => e.id === "model-signing/v1.1.0-elliptic-key");
    const root = SIGSTORE_VECTORS[0]?.files.trusted_root as string;
    assert.ok(entry);
    const result = await verifyModelSignature(bundleOf(entry), {
      files: modelFiles(entry),
      trust: trust(IDENTITY, ISSUER),
      now: NOW,
      keyless: keylessFor(root),
    });
    assert.deepEqual(result.reasons, ["model.keyless.invalid"]);
  });

  test("a trusted root that is not one is refused with a typed error", () => {
    assert.throws(
      () => createSigstoreKeylessVerifier("{not json"),
      (e: unknown) => e instanceof CloisterError && e.code === "model.keyless.trusted_root",
    );
  });
});
