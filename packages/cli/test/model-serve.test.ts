import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { appendFile, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ATTESTATION_PATH, parseBundle, parseManifest } from "@cloister/core";
import { DEFAULT_CHAT_MODEL_PATH } from "@cloister/server";
import { runCloister, startLongRunning, stopLongRunning } from "./support/cloister-cli.js";

// Model integrity end to end, as an owner and an operator would do it: `cloister model sign`,
// `cloister model encrypt`, then `cloister serve` with the owner's key as the only trusted
// signer. The served model is the real embedded GGUF.

let home: string;
let keyPem: string;
let pubPem: string;
let otherPubPem: string;
let model: string;

const cloister = (...args: string[]) => runCloister(args, home);
const READY = /listening on (http:\/\/\S+)/;

before(async () => {
  home = await mkdtemp(join(tmpdir(), "cloister-model-serve-"));
  const owner = generateKeyPairSync("ec", { namedCurve: "P-384" });
  keyPem = join(home, "owner-key.pem");
  pubPem = join(home, "owner-pub.pem");
  otherPubPem = join(home, "other-pub.pem");
  await writeFile(keyPem, owner.privateKey.export({ type: "pkcs8", format: "pem" }));
  await writeFile(pubPem, owner.publicKey.export({ type: "spki", format: "pem" }));
  await writeFile(
    otherPubPem,
    generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey.export({
      type: "spki",
      format: "pem",
    }),
  );
  model = join(home, "moby");
  await mkdir(model);
  await copyFile(DEFAULT_CHAT_MODEL_PATH, join(model, "moby-dick-char.gguf"));
  const signed = await cloister("model", "sign", model, "--key", keyPem, "--json");
  assert.equal(signed.code, 0, signed.stderr);
});

after(() => rm(home, { recursive: true, force: true }));

async function bundleDigest(bundlePath: string): Promise<string> {
  const inspected = await cloister("model", "inspect", bundlePath, "--json");
  assert.equal(inspected.code, 0, inspected.stderr);
  return (JSON.parse(inspected.stdout) as { digest: string }).digest;
}

test("`model verify` accepts the owner's signature and refuses another key or a changed file", async () => {
  const good = await cloister("model", "verify", model, "--key", pubPem, "--json");
  assert.equal(good.code, 0, good.stderr);
  const result = JSON.parse(good.stdout) as { verified: boolean; digest: string };
  assert.equal(result.verified, true);
  assert.equal(result.digest, await bundleDigest(join(model, "model.sig")));

  const wrongKey = await cloister("model", "verify", model, "--key", otherPubPem, "--json");
  assert.equal(wrongKey.code, 1);
  assert.ok(
    (JSON.parse(wrongKey.stdout) as { reasons: { code: string }[] }).reasons.some((r) =>
      r.code.startsWith("model.key"),
    ),
    wrongKey.stdout,
  );

  const copy = join(home, "moby-extra");
  await mkdir(copy);
  await copyFile(join(model, "moby-dick-char.gguf"), join(copy, "moby-dick-char.gguf"));
  await copyFile(join(model, "model.sig"), join(copy, "model.sig"));
  await writeFile(join(copy, "unsigned.txt"), "not part of the model");
  const extra = await cloister("model", "verify", copy, "--key", pubPem);
  assert.equal(extra.code, 1);
  assert.match(extra.stdout, /model\.files\.extra.*unsigned\.txt/);
});

test("serve refuses an unsigned model when signers are required", async () => {
  const run = await cloister("serve", "--port", "0", "--no-embeddings", "--trust-key", pubPem);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /signature bundle .*moby-dick-char\.gguf\.sig/);
});

test("serve refuses a tampered model and names the file", async () => {
  const tampered = join(home, "moby-tampered");
  await mkdir(tampered);
  await copyFile(join(model, "moby-dick-char.gguf"), join(tampered, "moby-dick-char.gguf"));
  await copyFile(join(model, "model.sig"), join(tampered, "model.sig"));
  await appendFile(join(tampered, "moby-dick-char.gguf"), "\0");
  const run = await cloister(
    "serve",
    "--port",
    "0",
    "--no-embeddings",
    "--model",
    tampered,
    "--trust-key",
    pubPem,
  );
  assert.equal(run.code, 1);
  assert.match(run.stderr, /moby-dick-char\.gguf.*\[model\.files\.changed\]/);
});

test("a signed model is served; its signed digest and signer are in the attested manifest", async () => {
  const { child, match } = await startLongRunning(
    ["serve", "--port", "0", "--no-embeddings", "--model", model, "--trust-key", pubPem],
    home,
    READY,
  );
  try {
    const url = match[1] as string;
    const bundle = parseBundle(await (await fetch(new URL(ATTESTATION_PATH, url))).json());
    const manifest = parseManifest(bundle.manifest);
    const [served] = manifest.models;
    assert.equal(served?.digest, await bundleDigest(join(model, "model.sig")));
    assert.match(served?.signer ?? "", /^key sha256:[0-9a-f]{64}$/);

    const chat = await cloister(
      "chat",
      "--url",
      url,
      "--model-signer",
      served?.signer as string,
      "Call me Ishmael",
      "--max-tokens",
      "8",
    );
    assert.equal(chat.code, 0, chat.stderr);
    assert.match(chat.stderr + chat.stdout, /signed by key sha256:/);
    const pinnedOther = await cloister(
      "attest",
      url,
      "--model-signer",
      "key sha256:0000000000000000000000000000000000000000000000000000000000000000",
    );
    assert.equal(pinnedOther.code, 1);
    assert.match(pinnedOther.stdout, /policy\.model_signer/);
  } finally {
    await stopLongRunning(child);
  }
});

test("an encrypted, signed model is verified, decrypted in memory and served; tampering is refused", async () => {
  const keyFile = join(home, "model.key");
  const encrypted = join(home, "moby-encrypted");
  const enc = await cloister(
    "model",
    "encrypt",
    model,
    "--key-id",
    "moby-2026",
    "--key",
    keyFile,
    "--out",
    encrypted,
  );
  assert.equal(enc.code, 0, enc.stderr);
  // The signature covers the plaintext; it travels beside the encrypted directory.
  await rm(join(encrypted, "model.sig.cenc"), { force: true });
  const signature = join(home, "moby-encrypted.sig");
  await copyFile(join(model, "model.sig"), signature);
  const serveArgs = [
    "serve",
    "--port",
    "0",
    "--no-embeddings",
    "--model",
    encrypted,
    "--trust-key",
    pubPem,
    "--decryption-key",
    keyFile,
  ];
  const { child, match } = await startLongRunning(serveArgs, home, READY);
  try {
    const url = match[1] as string;
    const manifest = parseManifest(
      parseBundle(await (await fetch(new URL(ATTESTATION_PATH, url))).json()).manifest,
    );
    assert.equal(manifest.models[0]?.digest, await bundleDigest(signature));
    const chat = await cloister("chat", "--url", url, "Call me Ishmael", "--max-tokens", "8");
    assert.equal(chat.code, 0, chat.stderr);
  } finally {
    await stopLongRunning(child);
  }

  const cenc = join(encrypted, "moby-dick-char.gguf.cenc");
  const original = await readFile(cenc);
  const flipped = Buffer.from(original);
  flipped[flipped.length - 100] = (flipped[flipped.length - 100] as number) ^ 1;
  await writeFile(cenc, flipped);
  const tampered = await cloister(...serveArgs);
  assert.equal(tampered.code, 1);
  assert.match(tampered.stderr, /\[model\.encrypted\./);

  await writeFile(cenc, original);
  const noKey = await cloister(...serveArgs.slice(0, -2));
  assert.equal(noKey.code, 1);
  assert.match(noKey.stderr, /\[model\.key\.missing\]/);
});
