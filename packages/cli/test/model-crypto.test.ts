import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Command } from "@commander-js/extra-typings";
import { registerModelCrypto } from "../src/commands/model-crypto.js";

/** Runs `cloister model <args>` in this process, as the integrator will wire it, capturing output. */
async function model(args: string[]): Promise<{ stdout: string; stderr: string; error?: unknown }> {
  const program = new Command("cloister").exitOverride();
  const modelCommand = new Command("model").exitOverride();
  registerModelCrypto(modelCommand);
  // Commander exits the process on a usage error unless told otherwise, command by command.
  for (const sub of modelCommand.commands) sub.exitOverride();
  program.addCommand(modelCommand);
  let stdout = "";
  let stderr = "";
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((chunk: string) => {
    stdout += chunk;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => {
    stderr += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    await program.parseAsync(["model", ...args], { from: "user" });
    return { stdout, stderr };
  } catch (error) {
    return { stdout, stderr, error };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

let dir: string;
const home = () => join(dir, "home");

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloister-cli-model-"));
  process.env.CLOISTER_HOME = join(dir, "home");
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("cloister model encrypt / decrypt", () => {
  it("encrypts a directory with a new 0600 key file and decrypts it back", async () => {
    const plain = join(dir, "m1");
    await mkdir(join(plain, "sub"), { recursive: true });
    const weights = randomBytes(300_000);
    await writeFile(join(plain, "weights.gguf"), weights);
    await writeFile(join(plain, "sub", "card.md"), "hello");

    const enc = await model([
      "encrypt",
      plain,
      "--key-id",
      "owner/m1",
      "--segment-size",
      "64k",
      "--json",
    ]);
    assert.equal(enc.error, undefined, String(enc.error));
    const result = JSON.parse(enc.stdout);
    const keyFile = join(home(), "model-keys", "owner_m1.jwk");
    assert.equal(result.keyFile, keyFile);
    assert.equal(result.keyCreated, true);
    assert.equal(result.segmentSize, 65536);
    assert.equal(result.output, `${plain}-encrypted`);
    assert.deepEqual(
      result.files.map((f: { encryptedPath: string }) => f.encryptedPath),
      ["sub/card.md.cenc", "weights.gguf.cenc"],
    );
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    assert.match(enc.stderr, /created key file/);
    assert.match(enc.stderr, /encrypting weights\.gguf \(2\/2\)/);
    assert.match(enc.stderr, /encrypting 293\.0 KiB \/ 293\.0 KiB \(100%\)/);

    const dec = await model([
      "decrypt",
      `${plain}-encrypted`,
      "--key",
      keyFile,
      "--out",
      join(dir, "m1-out"),
    ]);
    assert.equal(dec.error, undefined, String(dec.error));
    assert.match(dec.stdout, /Decrypted 2 files/);
    assert.ok(weights.equals(await readFile(join(dir, "m1-out", "weights.gguf"))));
    assert.equal(await readFile(join(dir, "m1-out", "sub", "card.md"), "utf8"), "hello");
  });

  it("encrypts a single file with an existing key and refuses a tampered copy", async () => {
    const file = join(dir, "single.bin");
    await writeFile(file, randomBytes(10_000));
    const keyFile = join(dir, "keys", "k.jwk");
    const first = await model(["encrypt", file, "--key-id", "k", "--key", keyFile]);
    assert.equal(first.error, undefined, String(first.error));
    const second = await model([
      ...["encrypt", file, "--key-id", "k", "--key", keyFile],
      ...["--out", join(dir, "again", "deeper"), "--json"],
    ]);
    assert.equal(second.error, undefined, String(second.error));
    assert.equal(JSON.parse(second.stdout).keyCreated, false);
    assert.deepEqual(await readdir(join(dir, "again", "deeper")), ["single.bin.cenc"]);
    const mismatch = await model(["encrypt", file, "--key-id", "other", "--key", keyFile]);
    assert.equal((mismatch.error as { code?: string }).code, "model.key.id-mismatch");

    const enc = `${file}.cenc`;
    const bytes = await readFile(enc);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] as number) ^ 4;
    await mkdir(join(dir, "t"));
    await writeFile(join(dir, "t", "single.bin.cenc"), bytes);
    const dec = await model(["decrypt", join(dir, "t", "single.bin.cenc"), "--key", keyFile]);
    assert.equal((dec.error as { code?: string }).code, "model.encrypted.authentication");
    assert.deepEqual(await readdir(join(dir, "t")), ["single.bin.cenc"]);

    const good = await model(["decrypt", enc, "--key", keyFile, "--out", join(dir, "t"), "--json"]);
    assert.equal(good.error, undefined, String(good.error));
    assert.deepEqual(JSON.parse(good.stdout).files, [
      { path: "single.bin", plaintextLength: 10_000 },
    ]);
  });

  it("refuses a group-readable key file", async () => {
    const keyFile = join(dir, "keys", "k.jwk");
    await chmod(keyFile, 0o640);
    const dec = await model(["decrypt", `${join(dir, "single.bin")}.cenc`, "--key", keyFile]);
    assert.equal((dec.error as { code?: string }).code, "model.key.permissions");
  });

  it("refuses a bad segment size", async () => {
    const result = await model([
      "encrypt",
      join(dir, "single.bin"),
      "--key-id",
      "k",
      "--segment-size",
      "lots",
    ]);
    assert.match(String((result.error as Error).message), /size in bytes/);
  });
});
