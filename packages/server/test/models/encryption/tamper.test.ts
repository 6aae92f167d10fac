import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ParseError } from "@cloister/core";
import { decryptModelFile, generateModelKey, ModelKey, modelKeyring } from "@cloister/server";
import { encryptBytes, listing, SEGMENT, split, withTempDir } from "./support.js";

/**
 * Every way an encrypted model can be damaged or mixed up, each refused with its own code by
 * decryptModelFile, and nothing but the input left in the directory afterwards.
 */
const key = generateModelKey("owner/model");
const keys = modelKeyring([key]);
const plaintext = randomBytes(3 * SEGMENT + 100); // four segments, the last one short
const good = await encryptBytes(plaintext, key);
const other = await encryptBytes(randomBytes(3 * SEGMENT + 100), key);
const { header, segments } = split(good);
const [s0, s1, s2, s3] = segments as [Buffer, Buffer, Buffer, Buffer];

const flip = (bytes: Buffer, offset: number, bit = 1) => {
  const copy = Buffer.from(bytes);
  copy[offset] = (copy[offset] as number) ^ bit;
  return copy;
};

async function refused(encrypted: Uint8Array, code: string, ring = keys): Promise<void> {
  await withTempDir(async (dir) => {
    const source = join(dir, "model.gguf.cenc");
    await writeFile(source, encrypted);
    await assert.rejects(decryptModelFile(source, join(dir, "model.gguf"), { keys: ring }), {
      code,
    });
    assert.deepEqual(await listing(dir), ["model.gguf.cenc"], "nothing written");
  });
}

describe("decryptModelFile refuses and writes nothing", () => {
  it("accepts the untouched file (the cases below can fail)", async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, "m.cenc"), good);
      const n = await decryptModelFile(join(dir, "m.cenc"), join(dir, "m"), { keys });
      assert.equal(n, plaintext.length);
      assert.deepEqual(await listing(dir), ["m", "m.cenc"]);
    });
  });

  it("a key with the right ID and other bytes: model.encrypted.wrong-key", () =>
    refused(good, "model.encrypted.wrong-key", modelKeyring([generateModelKey("owner/model")])));

  it("no key with the header's ID: model.encrypted.unknown-key", () =>
    refused(good, "model.encrypted.unknown-key", modelKeyring([generateModelKey("someone-else")])));

  it("the same key bytes under another ID: model.encrypted.unknown-key", () =>
    refused(good, "model.encrypted.unknown-key", modelKeyring([new ModelKey("x", key.bytes)])));

  it("last segment dropped: model.encrypted.truncated", () =>
    refused(Buffer.concat([header, s0, s1, s2]), "model.encrypted.truncated"));

  it("cut in the middle of a segment: model.encrypted.truncated", () =>
    refused(good.subarray(0, header.length + s0.length + 100), "model.encrypted.truncated"));

  it("only the header: model.encrypted.truncated", () =>
    refused(header, "model.encrypted.truncated"));

  it("header cut short: model.encrypted.truncated", async () => {
    for (const length of [0, 5, 12, 100, header.length - 1]) {
      await refused(
        header.subarray(0, length),
        length === 0 ? "model.encrypted.truncated" : "model.encrypted.truncated",
      );
    }
  });

  it("header bytes dropped from the front: model.encrypted.magic", () =>
    refused(good.subarray(3), "model.encrypted.magic"));

  it("a segment appended after the final one: model.encrypted.trailing-data", async () => {
    await refused(Buffer.concat([good, s1]), "model.encrypted.trailing-data");
    await refused(Buffer.concat([good, Buffer.of(0)]), "model.encrypted.trailing-data");
  });

  it("two segments swapped: model.encrypted.authentication", () =>
    refused(Buffer.concat([header, s1, s0, s2, s3]), "model.encrypted.authentication"));

  it("a full segment moved to the end: model.encrypted.authentication", () =>
    refused(Buffer.concat([header, s0, s1, s3, s2]), "model.encrypted.authentication"));

  it("a segment duplicated over the next: model.encrypted.authentication", () =>
    refused(Buffer.concat([header, s0, s0, s2, s3]), "model.encrypted.authentication"));

  it("a segment from another file under the same key: model.encrypted.authentication", () =>
    refused(
      Buffer.concat([header, s0, split(other).segments[1] as Buffer, s2, s3]),
      "model.encrypted.authentication",
    ));

  it("another file's header on these segments: model.encrypted.authentication", () =>
    refused(
      Buffer.concat([split(other).header, s0, s1, s2, s3]),
      "model.encrypted.authentication",
    ));

  it("segments from a file under another key: model.encrypted.authentication", async () => {
    const foreign = split(
      await encryptBytes(plaintext, new ModelKey("owner/model", randomBytes(32))),
    );
    await refused(Buffer.concat([header, ...foreign.segments]), "model.encrypted.authentication");
  });

  it("a flipped bit in each authenticated header field: model.encrypted.authentication", async () => {
    // segment size, plaintext length, digest, nonce prefix: the AAD no longer matches.
    for (const offset of [16, 25, 26, 57, 90, 96]) {
      await refused(flip(good, offset), "model.encrypted.authentication");
    }
  });

  it("a flipped bit in the key commitment or the salt it derives from: model.encrypted.wrong-key", async () => {
    await refused(flip(good, 100), "model.encrypted.wrong-key");
    await refused(flip(good, 58), "model.encrypted.wrong-key");
  });

  it("a flipped bit in the key ID: model.encrypted.unknown-key", () =>
    refused(flip(good, header.length - 1), "model.encrypted.unknown-key"));

  it("a flipped bit in the magic, version or algorithm: their parse codes", async () => {
    await refused(flip(good, 0), "model.encrypted.magic");
    await refused(flip(good, 12), "model.encrypted.version");
    await refused(flip(good, 13), "model.encrypted.algorithm");
  });

  it("a flipped bit in ciphertext or tag: model.encrypted.authentication", async () => {
    const start = header.length;
    for (const offset of [
      start,
      start + 1000,
      start + s0.length - 1,
      good.length - 1,
      good.length - 17,
    ]) {
      await refused(flip(good, offset, 0x80), "model.encrypted.authentication");
    }
  });

  it("a header whose digest is not the plaintext's: model.encrypted.digest", async () => {
    const lying = await encryptBytes(plaintext, key, SEGMENT, randomBytes(32));
    await refused(lying, "model.encrypted.digest");
  });

  it("reports header problems as ParseErrors with field and offset", async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, "m.cenc"), flip(good, 12));
      const error = await decryptModelFile(join(dir, "m.cenc"), join(dir, "m"), { keys }).catch(
        (e: unknown) => e,
      );
      assert.ok(error instanceof ParseError);
      assert.equal(error.field, "version");
      assert.equal(error.offset, 12);
    });
  });

  it("never puts key bytes in an error message", async () => {
    const wrong = generateModelKey("owner/model");
    await withTempDir(async (dir) => {
      await writeFile(join(dir, "m.cenc"), good);
      const error = (await decryptModelFile(join(dir, "m.cenc"), join(dir, "m"), {
        keys: modelKeyring([wrong]),
      }).catch((e: unknown) => e)) as Error;
      for (const k of [key, wrong]) {
        const bytes = Buffer.from(k.bytes);
        for (const encoding of ["hex", "base64", "base64url"] as const) {
          assert.ok(!error.message.includes(bytes.toString(encoding)));
        }
      }
    });
  });
});
