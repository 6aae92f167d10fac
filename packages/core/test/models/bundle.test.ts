import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ParseError } from "../../src/errors.js";
import {
  parseModelStatement,
  parseSigstoreBundle,
  preAuthEncoding,
  publicKeyHint,
} from "../../src/models/index.js";
import { parsePublicKeyPem } from "../../src/models/keys.js";
import { vectorEntry } from "../support/testvectors.js";
import { bundleOf, read, SIGNING_KEY_PUB } from "./support.js";

const KEY_BUNDLE = JSON.parse(bundleOf(vectorEntry("model-signing/v1.1.0-elliptic-key")));

function refused(input: unknown, code: string): void {
  const text = typeof input === "string" ? input : JSON.stringify(input);
  assert.throws(
    () => parseSigstoreBundle(text),
    (e: unknown) => e instanceof ParseError && e.code === code,
  );
}

function withEnvelope(change: (env: Record<string, unknown>) => void): unknown {
  const json = structuredClone(KEY_BUNDLE);
  change(json.dsseEnvelope);
  return json;
}

describe("Sigstore bundle parsing", () => {
  test("reads the key, certificate and keyless material of the vectors", () => {
    const key = parseSigstoreBundle(bundleOf(vectorEntry("model-signing/v1.1.0-elliptic-key")));
    assert.equal(key.verificationMaterial.kind, "publicKey");
    const cert = parseSigstoreBundle(bundleOf(vectorEntry("model-signing/v1.1.0-certificate")));
    assert.equal(cert.verificationMaterial.kind, "x509CertificateChain");
    if (cert.verificationMaterial.kind === "x509CertificateChain") {
      assert.equal(cert.verificationMaterial.certificates.length, 2);
    }
    const keyless = parseSigstoreBundle(
      new TextEncoder().encode(bundleOf(vectorEntry("model-signing/v1.1.0-sigstore"))),
    );
    assert.equal(keyless.verificationMaterial.kind, "certificate");
    assert.equal(keyless.tlogEntries.length, 1);
    assert.ok(keyless.timestampVerificationData);
  });

  test("accepts the v0.1 and v0.2 media types", () => {
    for (const version of ["0.1", "0.2", "0.3"]) {
      const json = {
        ...KEY_BUNDLE,
        mediaType: `application/vnd.dev.sigstore.bundle+json;version=${version}`,
      };
      assert.equal(parseSigstoreBundle(JSON.stringify(json)).mediaType, json.mediaType);
    }
  });

  test("refuses what is not a DSSE Sigstore bundle", () => {
    refused("not json", "model.bundle.malformed");
    assert.throws(
      () => parseSigstoreBundle(new Uint8Array([0xff, 0xfe])),
      (e: unknown) => e instanceof ParseError && e.code === "model.bundle.malformed",
    );
    refused({ ...KEY_BUNDLE, mediaType: "application/json" }, "model.bundle.media_type");
    refused([], "model.bundle.malformed");
    const { dsseEnvelope: _, ...noEnvelope } = KEY_BUNDLE;
    refused({ ...noEnvelope, messageSignature: {} }, "model.bundle.unsupported");
    refused(
      { ...KEY_BUNDLE, verificationMaterial: { publicKey: {}, certificate: { rawBytes: "MA==" } } },
      "model.bundle.malformed",
    );
    refused({ ...KEY_BUNDLE, verificationMaterial: {} }, "model.bundle.malformed");
  });

  test("refuses envelopes with other than one signature or non-canonical base64", () => {
    refused(
      withEnvelope((env) => {
        env.signatures = [...(env.signatures as unknown[]), ...(env.signatures as unknown[])];
      }),
      "model.bundle.malformed",
    );
    refused(
      withEnvelope((env) => {
        env.signatures = [];
      }),
      "model.bundle.malformed",
    );
    // "QR==" and "QQ==" both decode to "A" in lenient decoders; only the canonical one is read.
    refused(
      withEnvelope((env) => {
        env.payload = "QR==";
      }),
      "model.bundle.malformed",
    );
    refused(
      withEnvelope((env) => {
        env.payloadType = 7;
      }),
      "model.bundle.malformed",
    );
  });

  test("PAE is the DSSE v1 encoding (the specification's example)", () => {
    const pae = preAuthEncoding(
      "http://example.com/HelloWorld",
      new TextEncoder().encode("hello world"),
    );
    assert.equal(
      new TextDecoder().decode(pae),
      "DSSEv1 29 http://example.com/HelloWorld 11 hello world",
    );
  });

  test("the key hint is SHA-256 of the re-serialised PEM, not of the key file", async () => {
    const pem = read(SIGNING_KEY_PUB);
    const key = await parsePublicKeyPem(pem, "key");
    assert.equal(await publicKeyHint(key.spki), KEY_BUNDLE.verificationMaterial.publicKey.hint);
  });

  test("non-EC keys are refused", async () => {
    const rsa = (await crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const der = Buffer.from(await crypto.subtle.exportKey("spki", rsa.publicKey)).toString(
      "base64",
    );
    await assert.rejects(
      parsePublicKeyPem(`-----BEGIN PUBLIC KEY-----\n${der}\n-----END PUBLIC KEY-----\n`, "key"),
      (e: unknown) => e instanceof ParseError && e.code === "model.key.unsupported",
    );
  });
});

interface RawStatement {
  subject: unknown[];
  predicate: { serialization: Record<string, unknown>; resources: unknown[] };
}

describe("model statement parsing", () => {
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const statement = JSON.parse(
    Buffer.from(KEY_BUNDLE.dsseEnvelope.payload, "base64").toString("utf8"),
  );

  test("reads the vector's statement", () => {
    const parsed = parseModelStatement(encode(statement));
    assert.equal(parsed.resources.length, 2);
    assert.equal(parsed.serialization.allowSymlinks, false);
    assert.equal(parsed.serialization.ignorePaths.length, 6);
  });

  for (const [what, change, code] of [
    [
      "shard serialization",
      (s: RawStatement) => {
        s.predicate.serialization.method = "shards";
      },
      "model.serialization.unsupported",
    ],
    [
      "another hash",
      (s: RawStatement) => {
        s.predicate.serialization.hash_type = "blake2";
      },
      "model.serialization.unsupported",
    ],
    [
      "two subjects",
      (s: RawStatement) => {
        s.subject.push(s.subject[0]);
      },
      "model.statement.malformed",
    ],
    [
      "a repeated resource",
      (s: RawStatement) => {
        s.predicate.resources.push(s.predicate.resources[0]);
      },
      "model.statement.malformed",
    ],
    [
      "a short digest",
      (s: RawStatement) => {
        (s.predicate.resources[0] as Record<string, unknown>).digest = "abcd";
      },
      "model.statement.malformed",
    ],
    [
      "no allow_symlinks",
      (s: RawStatement) => {
        delete s.predicate.serialization.allow_symlinks;
      },
      "model.statement.malformed",
    ],
  ] as const) {
    test(`refuses ${what} (${code})`, () => {
      const copy = structuredClone(statement);
      change(copy);
      assert.throws(
        () => parseModelStatement(encode(copy)),
        (e: unknown) => e instanceof ParseError && e.code === code,
      );
    });
  }
});
