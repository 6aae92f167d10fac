import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  decryptModelDir,
  decryptModelFile,
  encryptModelDir,
  encryptModelFile,
  generateModelKey,
  type ModelDirProgress,
  modelKeyring,
  openEncryptedModel,
  readEncryptedModelHeader,
} from "@cloister/server";
import { listing, withTempDir } from "./support.js";

const MOBY = fileURLToPath(
  new URL("../../../models/moby-dick-char/moby-dick-char.gguf", import.meta.url),
);
const key = generateModelKey("owner/moby");
const keys = modelKeyring([key]);

describe("encrypted model files and directories", () => {
  it("round-trips the default model file byte for byte", async () => {
    await withTempDir(async (dir) => {
      const original = await readFile(MOBY);
      const info = await encryptModelFile(MOBY, join(dir, "moby.gguf.cenc"), { key });
      assert.equal(info.plaintextLength, original.length);
      assert.equal(info.plaintextSha256, createHash("sha256").update(original).digest("hex"));
      assert.equal((await stat(join(dir, "moby.gguf.cenc"))).size, info.encryptedLength);
      const header = await readEncryptedModelHeader(join(dir, "moby.gguf.cenc"));
      assert.equal(header.keyId, "owner/moby");
      assert.equal(header.segmentSize, 1024 * 1024);
      let progressed = 0;
      await decryptModelFile(join(dir, "moby.gguf.cenc"), join(dir, "moby.gguf"), {
        keys,
        onProgress: (n) => {
          progressed += n;
        },
      });
      assert.equal(progressed, original.length);
      assert.ok(original.equals(await readFile(join(dir, "moby.gguf"))));
      assert.equal((await stat(join(dir, "moby.gguf"))).mode & 0o777, 0o600);
      const streamed: Buffer[] = [];
      for await (const chunk of openEncryptedModel(join(dir, "moby.gguf.cenc"), keys)) {
        assert.ok(chunk.length <= 1024 * 1024, "one segment at a time");
        streamed.push(Buffer.from(chunk));
      }
      assert.ok(original.equals(Buffer.concat(streamed)));
    });
  });

  it("mirrors a directory tree as .cenc files and back", async () => {
    await withTempDir(async (dir) => {
      const plain = join(dir, "model");
      await mkdir(join(plain, "tokenizer"), { recursive: true });
      const files: Record<string, Buffer> = {
        "weights.gguf": randomBytes(70_000),
        "tokenizer/vocab.json": randomBytes(10),
        "README.md": Buffer.alloc(0),
      };
      for (const [path, bytes] of Object.entries(files)) await writeFile(join(plain, path), bytes);
      const events: ModelDirProgress[] = [];
      const entries = await encryptModelDir(plain, join(dir, "enc"), {
        key,
        segmentSize: 8192,
        onProgress: (p) => events.push(p),
      });
      assert.deepEqual(
        entries.map((e) => e.path),
        ["README.md", "tokenizer/vocab.json", "weights.gguf"],
      );
      assert.deepEqual(await listing(join(dir, "enc")), [
        "README.md.cenc",
        "tokenizer",
        "weights.gguf.cenc",
      ]);
      assert.deepEqual(await listing(join(dir, "enc", "tokenizer")), ["vocab.json.cenc"]);
      assert.equal(events.at(-1)?.bytesDone, 70_010);
      assert.equal(events.at(-1)?.bytesTotal, 70_010);

      const out = join(dir, "out");
      const decrypted = await decryptModelDir(join(dir, "enc"), out, keys);
      assert.equal(decrypted.length, 3);
      for (const [path, bytes] of Object.entries(files)) {
        assert.ok(bytes.equals(await readFile(join(out, path))), path);
      }
      await assert.rejects(decryptModelDir(join(dir, "enc"), out, keys), {
        code: "model.encrypted.destination-exists",
      });
    });
  });

  it("leaves no destination directory when one file fails", async () => {
    await withTempDir(async (dir) => {
      const plain = join(dir, "model");
      await mkdir(plain);
      await writeFile(join(plain, "a.bin"), randomBytes(5000));
      await writeFile(join(plain, "b.bin"), randomBytes(5000));
      await encryptModelDir(plain, join(dir, "enc"), { key, segmentSize: 4096 });
      const b = join(dir, "enc", "b.bin.cenc");
      const bytes = await readFile(b);
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
      await writeFile(b, bytes);
      await assert.rejects(decryptModelDir(join(dir, "enc"), join(dir, "out"), keys), {
        code: "model.encrypted.authentication",
      });
      assert.deepEqual(await listing(dir), ["enc", "model"]);
      await assert.rejects(
        decryptModelDir(join(dir, "enc"), join(dir, "out"), modelKeyring([generateModelKey("x")])),
        { code: "model.encrypted.unknown-key" },
      );
      await writeFile(join(dir, "enc", "stray.txt"), "x");
      await assert.rejects(decryptModelDir(join(dir, "enc"), join(dir, "out"), keys), {
        code: "model.encrypted.not-encrypted",
      });
      assert.deepEqual(await listing(dir), ["enc", "model"]);
    });
  });

  it("refuses symbolic links and missing sources", async () => {
    await withTempDir(async (dir) => {
      await mkdir(join(dir, "model"));
      await symlink("/etc/hostname", join(dir, "model", "link"));
      await assert.rejects(encryptModelDir(join(dir, "model"), join(dir, "enc"), { key }), {
        code: "model.encrypted.not-regular",
      });
      await assert.rejects(encryptModelFile(join(dir, "absent"), join(dir, "x.cenc"), { key }), {
        code: "model.encrypted.io",
      });
      await assert.rejects(decryptModelFile(join(dir, "absent"), join(dir, "x"), { keys }), {
        code: "model.encrypted.io",
      });
      assert.deepEqual(await listing(dir), ["model"]);
    });
  });
});
