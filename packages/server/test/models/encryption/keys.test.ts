import assert from "node:assert/strict";
import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import {
  createModelKeyFile,
  generateModelKey,
  MODEL_KEYS_ENV,
  ModelKey,
  modelKeyring,
  modelKeysFromEnv,
  modelKeyToJwk,
  readModelKeyFile,
} from "@cloister/server";
import { withTempDir } from "./support.js";

describe("model keys", () => {
  it("creates a key file with mode 0600 and reads it back", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "keys", "owner.jwk");
      const key = generateModelKey("owner/model");
      await createModelKeyFile(path, key);
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      const jwk = JSON.parse(await readFile(path, "utf8"));
      assert.deepEqual(Object.keys(jwk).sort(), ["k", "kid", "kty"]);
      assert.equal(jwk.kty, "oct");
      const back = await readModelKeyFile(path);
      assert.equal(back.id, "owner/model");
      assert.deepEqual(back.bytes, key.bytes);
      await assert.rejects(createModelKeyFile(path, generateModelKey("x")), {
        code: "model.key.exists",
      });
      assert.deepEqual((await readModelKeyFile(path)).bytes, key.bytes, "not replaced");
    });
  });

  it("refuses a key file readable or writable by group or others", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "k.jwk");
      await createModelKeyFile(path, generateModelKey("k"));
      for (const mode of [0o640, 0o604, 0o620, 0o644, 0o666]) {
        await chmod(path, mode);
        await assert.rejects(readModelKeyFile(path), (error: Error & { code?: string }) => {
          assert.equal(error.code, "model.key.permissions");
          assert.match(error.message, /chmod 600/);
          return true;
        });
      }
      await chmod(path, 0o400);
      assert.equal((await readModelKeyFile(path)).id, "k");
    });
  });

  it("refuses malformed key files without quoting them", async () => {
    await withTempDir(async (dir) => {
      const secret = Buffer.alloc(32, 7).toString("base64url");
      const cases = [
        `{"kty":"oct","kid":"k","k":"${secret}"`, // not JSON
        `{"kty":"RSA","kid":"k","k":"${secret}"}`,
        `{"kty":"oct","k":"${secret}"}`,
        `{"kty":"oct","kid":"k","k":"${secret.slice(2)}"}`, // 30 bytes
        `{"kty":"oct","kid":"k","k":"${secret}!"}`,
        `{"kty":"oct","kid":"","k":"${secret}"}`,
      ];
      for (const text of cases) {
        const path = join(dir, "k.jwk");
        await writeFile(path, text, { mode: 0o600 });
        await assert.rejects(readModelKeyFile(path), (error: Error & { code?: string }) => {
          assert.equal(error.code, "model.key.malformed", text);
          assert.ok(!error.message.includes(secret.slice(2, 30)));
          return true;
        });
      }
      await assert.rejects(readModelKeyFile(join(dir, "absent.jwk")), { code: "model.key.file" });
    });
  });

  it("reads CLOISTER_MODEL_KEYS as one JWK or a JWK Set", () => {
    const a = generateModelKey("a");
    const b = generateModelKey("b");
    assert.equal(modelKeysFromEnv({}).size, 0);
    const one = modelKeysFromEnv({ [MODEL_KEYS_ENV]: JSON.stringify(modelKeyToJwk(a)) });
    assert.deepEqual(one.get("a")?.bytes, a.bytes);
    const set = modelKeysFromEnv({
      [MODEL_KEYS_ENV]: JSON.stringify({ keys: [modelKeyToJwk(a), modelKeyToJwk(b)] }),
    });
    assert.deepEqual([...set.keys()], ["a", "b"]);
    assert.throws(
      () =>
        modelKeysFromEnv({
          [MODEL_KEYS_ENV]: JSON.stringify({ keys: [modelKeyToJwk(a), modelKeyToJwk(a)] }),
        }),
      { code: "model.key.duplicate" },
    );
    assert.throws(() => modelKeysFromEnv({ [MODEL_KEYS_ENV]: "{nope" }), {
      code: "model.key.malformed",
      message: "CLOISTER_MODEL_KEYS: not valid JSON.",
    });
  });

  it("never shows key bytes in JSON or util.inspect", () => {
    const key = generateModelKey("owner/model");
    const hex = Buffer.from(key.bytes).toString("hex");
    const b64 = Buffer.from(key.bytes).toString("base64url");
    const ring = modelKeyring([key]);
    for (const text of [
      JSON.stringify(key),
      inspect(key),
      inspect(ring, { depth: 5 }),
      String(key),
    ]) {
      assert.ok(!text.includes(hex) && !text.includes(b64), text);
    }
    assert.match(inspect(ring), /owner\/model/);
  });

  it("refuses bad key IDs and sizes", () => {
    assert.throws(() => new ModelKey("", new Uint8Array(32)), { code: "model.key.id" });
    assert.throws(() => new ModelKey("a\nb", new Uint8Array(32)), { code: "model.key.id" });
    assert.throws(() => new ModelKey("x".repeat(256), new Uint8Array(32)), {
      code: "model.key.id",
    });
    assert.throws(() => new ModelKey("k", new Uint8Array(16)), { code: "model.key.malformed" });
    assert.equal(new ModelKey("ключ/模型", new Uint8Array(32)).id, "ключ/模型");
  });
});
