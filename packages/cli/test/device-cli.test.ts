import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCloister, startLongRunning, stopLongRunning } from "./support/cloister-cli.js";

// docs/arm.md section 5, "Trying it end to end", run as written: the owner encrypts, the
// operator enrolls and serves, a simulated TF-M device obtains the key and decrypts the model.

let home: string;
const cloister = (...args: string[]) => runCloister(args, home);

before(async () => {
  home = await mkdtemp(join(tmpdir(), "cloister-device-cli-"));
});
after(() => rm(home, { recursive: true, force: true }));

test("enroll, serve --device-key, device release --out, model decrypt", async () => {
  const model = join(home, "edge-model");
  await mkdir(model);
  await writeFile(join(model, "weights.bin"), "edge weights ".repeat(1000));
  await writeFile(join(model, "config.json"), '{"layers":2}');
  const keyFile = join(home, "edge-2026.key");
  const encrypt = await cloister(
    "model",
    "encrypt",
    model,
    "--key-id",
    "edge-2026",
    "--key",
    keyFile,
  );
  assert.equal(encrypt.code, 0, encrypt.stderr);

  const enroll = await cloister("device", "enroll", "--tfm-test-key");
  assert.equal(enroll.code, 0, enroll.stderr);
  assert.match(enroll.stderr, /WARNING: enrolling TF-M's published test key/);
  const list = await cloister("device", "list");
  assert.match(list.stdout, /^01fa58755f658627ce5460f29b75296713248cae7ad9e2984b90280efcbcb50248/m);

  const { child, match } = await startLongRunning(
    ["serve", "--port", "0", "--no-embeddings", "--device-key", keyFile],
    home,
    /listening on (http:\/\/\S+)/,
  );
  try {
    const url = match[1] as string;
    const released = join(home, "released.key");
    const debug = await cloister(
      "device",
      "release",
      url,
      "--key-id",
      "edge-2026",
      "--lifecycle",
      "non-psa-rot-debug",
    );
    assert.equal(debug.code, 1);
    assert.match(debug.stderr, /\[psa\.policy\.lifecycle\]/);

    const release = await cloister(
      "device",
      "release",
      url,
      "--key-id",
      "edge-2026",
      "--out",
      released,
    );
    assert.equal(release.code, 0, release.stderr);
    assert.match(release.stdout, /Released key edge-2026/);
    const decrypt = await cloister(
      "model",
      "decrypt",
      `${model}-encrypted`,
      "--key",
      released,
      "--out",
      join(home, "edge-model-decrypted"),
    );
    assert.equal(decrypt.code, 0, decrypt.stderr);
    assert.equal(
      await readFile(join(home, "edge-model-decrypted", "weights.bin"), "utf8"),
      "edge weights ".repeat(1000),
    );
  } finally {
    await stopLongRunning(child);
  }
});
