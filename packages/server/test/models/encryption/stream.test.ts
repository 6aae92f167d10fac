import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { ENC_HEADER_FIXED_BYTES, ENC_TAG_BYTES, parseEncryptedModelHeader } from "@cloister/core";
import { generateModelKey, modelKeyring } from "@cloister/server";
import fc from "fast-check";
import { collect, decryptBytes, encryptBytes, SEGMENT, sha256 } from "./support.js";

const key = generateModelKey("owner/model-2026");
const keys = modelKeyring([key]);

describe("encrypted model stream round trip", () => {
  for (const size of [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT + 17]) {
    it(`${size} bytes`, async () => {
      const plaintext = randomBytes(size);
      const encrypted = await encryptBytes(plaintext, key);
      const segments = Math.max(1, Math.ceil(size / SEGMENT));
      assert.equal(
        encrypted.length,
        ENC_HEADER_FIXED_BYTES + key.id.length + size + segments * ENC_TAG_BYTES,
      );
      const { header } = parseEncryptedModelHeader(encrypted);
      assert.equal(header.plaintextLength, size);
      assert.deepEqual(Buffer.from(header.plaintextSha256), sha256(plaintext));
      assert.deepEqual(await decryptBytes(encrypted, keys), plaintext);
    });
  }

  it("round-trips any size, segment size and chunking", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 5 * SEGMENT + 3 }),
        fc.integer({ min: SEGMENT, max: 3 * SEGMENT }),
        fc.integer({ min: 1, max: 9000 }),
        async (plaintext, segmentSize, chunk) => {
          const encrypted = await encryptBytes(plaintext, key, segmentSize);
          // The decryptor regroups whatever chunks the transport delivers.
          async function* pieces() {
            for (let i = 0; i < encrypted.length; i += chunk)
              yield encrypted.subarray(i, i + chunk);
          }
          const { openEncryptedModel } = await import("@cloister/server");
          const out = await collect(openEncryptedModel(pieces(), keys));
          assert.deepEqual(out, Buffer.from(plaintext));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("never encrypts two files alike: a fresh salt and nonce prefix each time", async () => {
    const plaintext = randomBytes(100);
    const a = await encryptBytes(plaintext, key);
    const b = await encryptBytes(plaintext, key);
    assert.notDeepEqual(a, b);
    assert.notDeepEqual(
      parseEncryptedModelHeader(a).header.salt,
      parseEncryptedModelHeader(b).header.salt,
    );
  });

  it("refuses a stream that is longer or shorter than it promised", async () => {
    const { encryptModelStream } = await import("@cloister/server");
    async function* bytes(n: number) {
      yield new Uint8Array(n);
    }
    for (const actual of [9, 11]) {
      await assert.rejects(
        collect(
          encryptModelStream(bytes(actual), {
            key,
            segmentSize: SEGMENT,
            plaintextLength: 10,
            plaintextSha256: new Uint8Array(32),
          }),
        ),
        { code: "model.encrypted.source-changed" },
      );
    }
  });

  it("refuses a segment size outside 4 KiB to 64 MiB", async () => {
    for (const segmentSize of [4095, 64 * 1024 * 1024 + 1, 1.5]) {
      await assert.rejects(encryptBytes(new Uint8Array(1), key, segmentSize), {
        code: "model.encrypted.segment-size",
      });
    }
  });
});
