import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { TESTVECTORS, VECTOR_INDEX } from "../../core/test/support/testvectors.js";
import { runCloister } from "./support/cloister-cli.js";

// `cloister model verify` on every signed model of the corpus, with the trust the corpus names
// for it (index.json): a public key, the CA certificate, or the Sigstore identity and issuer
// against the shipped trusted root. Bundles older than v1.1.0 do not record ignored paths, so
// the model's `ignore-me` is ignored on the command line, as the Python tool's tests do.

const IDENTITY = [
  "--identity",
  "stefanb@us.ibm.com",
  "--issuer",
  "https://sigstore.verify.ibm.com/oauth2",
];

let home: string;
before(async () => {
  home = await mkdtemp(join(tmpdir(), "cloister-model-vectors-"));
});
after(() => rm(home, { recursive: true, force: true }));

const entries = VECTOR_INDEX.filter(
  (e) => e.kind === "model-signing" && e.id !== "model-signing/negative-mutations",
);

test("the corpus has the 12 signed models", () => assert.equal(entries.length, 12));

for (const entry of entries) {
  test(`${entry.id} verifies with \`cloister model verify\``, async () => {
    const bundle = join(TESTVECTORS, entry.files.bundle as string);
    const single = entry.files.signme_2 === undefined;
    const model = single ? join(TESTVECTORS, entry.files.signme_1 as string) : dirname(bundle);
    const trust = entry.id.endsWith("-sigstore")
      ? IDENTITY
      : entry.id.endsWith("-certificate")
        ? ["--ca", join(TESTVECTORS, entry.files.root_ca as string)]
        : ["--key", join(TESTVECTORS, entry.files.public_key as string)];
    const ignore = entry.files.ignore_me === undefined ? [] : ["--ignore-paths", "ignore-me"];
    const run = await runCloister(
      ["model", "verify", model, "--bundle", bundle, ...trust, ...ignore, "--no-cache", "--json"],
      home,
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const result = JSON.parse(run.stdout) as { verified: boolean; signer: string };
    assert.equal(result.verified, true);
    if (entry.id.endsWith("-sigstore")) {
      assert.equal(result.signer, "stefanb@us.ibm.com (https://sigstore.verify.ibm.com/oauth2)");
    }
  });
}

test("another identity is refused with its own reason", async () => {
  const bundle = join(TESTVECTORS, "model-signing/v1.1.0-sigstore/model.sig");
  const run = await runCloister(
    [
      "model",
      "verify",
      dirname(bundle),
      "--identity",
      "someone@example.com",
      "--issuer",
      "https://sigstore.verify.ibm.com/oauth2",
      "--json",
    ],
    home,
  );
  assert.equal(run.code, 1);
  assert.match(run.stdout, /model\.identity\.mismatch/);
});
