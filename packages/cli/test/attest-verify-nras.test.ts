import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { exportJWK } from "jose";
import { jwks, mint, NONCE, NOW, other } from "../../core/test/attest/nvidia/nras/nras-token.js";
import { jsonOutput, reasonCodes, runCloister } from "./support/cloister-cli.js";

// `cloister attest verify` on an NVIDIA NRAS result (remote verification), with NRAS's signing
// keys supplied offline as a JWKS file. The corpus holds no NRAS token: the tokens are minted
// in NRAS's shape with a test key (see nras-token.ts).

let home: string;
let token: string;
let jwksFile: string;
let otherJwksFile: string;

before(async () => {
  home = await mkdtemp(join(tmpdir(), "cloister-nras-"));
  token = join(home, "nras.json");
  await writeFile(token, JSON.stringify(JSON.parse(await mint()), null, 2));
  jwksFile = join(home, "jwks.json");
  await writeFile(jwksFile, JSON.stringify(jwks));
  otherJwksFile = join(home, "other-jwks.json");
  await writeFile(
    otherJwksFile,
    JSON.stringify({ keys: [{ ...(await exportJWK(other.publicKey)), kid: jwks.keys[0]?.kid }] }),
  );
});
after(() => rm(home, { recursive: true, force: true }));

const verify = (...args: string[]) =>
  runCloister(["attest", "verify", token, "--now", NOW.toISOString(), ...args], home);

test("an NRAS token verifies offline with the supplied JWKS and nonce", async () => {
  const run = await verify("--jwks", jwksFile, "--nonce", NONCE, "--json");
  assert.equal(run.code, 0, run.stderr + run.stdout);
  const out = jsonOutput(run);
  assert.equal(out.status, "affirming");
  assert.match(out.form, /NVIDIA NRAS token \(1 GPU token/);
});

test("another nonce, another key, no JWKS or a flag it does not read: refused with the reason", async () => {
  const [nonce, key, none, flag] = await Promise.all([
    verify("--jwks", jwksFile, "--nonce", "00".repeat(32), "--json"),
    verify("--jwks", otherJwksFile, "--nonce", NONCE, "--json"),
    verify("--nonce", NONCE),
    verify("--jwks", jwksFile, "--nonce", NONCE, "--rim", token),
  ]);
  assert.equal(nonce.code, 1);
  assert.deepEqual(reasonCodes(jsonOutput(nonce)), ["nvidia.nras.nonce"]);
  assert.equal(key.code, 1);
  assert.deepEqual(reasonCodes(jsonOutput(key)), ["nvidia.nras.signature"]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /\[nvidia\.nras\.input\]/);
  assert.equal(flag.code, 1);
  assert.match(flag.stderr, /\[input\.flag_unsupported\]/);
});
