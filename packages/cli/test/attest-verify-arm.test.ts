import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { TESTVECTORS, vectorEntry } from "../../core/test/support/testvectors.js";
import { jsonOutput, reasonCodes, runCloister } from "./support/cloister-cli.js";

// `cloister attest verify` on Arm evidence: the format is detected from the CBOR tag, the
// trust anchors come from --keys, and CCA reference values from --ref-values.
let home: string;
before(async () => {
  home = await mkdtemp(join(tmpdir(), "cloister-arm-"));
});
after(() => rm(home, { recursive: true, force: true }));

const verify = (...args: string[]) => runCloister(["attest", "verify", ...args], home);
const vector = (id: string, key: string) => {
  const path = vectorEntry(id).files[key];
  assert.ok(path, `${id} has no file "${key}"`);
  return join(TESTVECTORS, path);
};

test("a CCA token verifies with its CPAK and appraises against its reference values", async () => {
  const token = vector("cca/tf-rmm-token-01", "token");
  const keys = vector("cca/tf-rmm-token-01", "cpak_pem");
  const values = vector("cca/tf-rmm-token-01", "reference_values");
  const [good, noKey, wrongRim] = await Promise.all([
    verify(token, "--keys", keys, "--ref-values", values, "--json"),
    verify(token, "--json"),
    (async () => {
      const rv = JSON.parse(await readFile(values, "utf8"));
      const altered = JSON.stringify(rv).replace(/"0{64}"/, `"${"11".repeat(32)}"`);
      const path = join(home, "rv-altered.json");
      await writeFile(path, altered);
      return verify(token, "--keys", keys, "--ref-values", path, "--json");
    })(),
  ]);
  assert.equal(good.code, 0, good.stderr);
  const result = jsonOutput(good);
  assert.equal(result.form, "CCA token (CBOR tag 399)");
  assert.equal(result.status, "affirming");
  assert.equal(result.claims?.platform, "cca");
  assert.equal(result.claims?.reportData, "ab".repeat(64));
  assert.equal(noKey.code, 1);
  assert.deepEqual(reasonCodes(jsonOutput(noKey)), ["cca.platform.key"]);
  assert.equal(wrongRim.code, 1);
  assert.ok(reasonCodes(jsonOutput(wrongRim)).some((c) => c.startsWith("cca.policy.")));
});

test("a PSA token verifies with the TF-M key under a policy that accepts PSA; Mac0 cannot", async () => {
  const sign1 = vector("psa/tf-m-p2-sign1", "token");
  const mac0 = join(TESTVECTORS, "psa/tf-m/psa-2_0_0_mac0.bin");
  const key = vector("psa/tf-m-p2-sign1", "key");
  const policy = join(home, "psa-policy.json");
  await writeFile(policy, JSON.stringify({ platforms: ["psa"] }));
  const [accepted, defaultPolicy, mac] = await Promise.all([
    verify(sign1, "--keys", key, "--policy", policy, "--json"),
    verify(sign1, "--keys", key, "--json"),
    verify(mac0, "--keys", key, "--authenticity-only", "--json"),
  ]);
  assert.equal(accepted.code, 0, accepted.stderr);
  const result = jsonOutput(accepted);
  assert.equal(result.status, "affirming");
  assert.match(String(result.claims?.hardwareId), /^01fa5875/);
  // PSA devices are not confidential-computing servers: the default policy does not list them.
  assert.deepEqual(reasonCodes(jsonOutput(defaultPolicy)), ["policy.platform"]);
  assert.equal(mac.code, 1);
  assert.deepEqual(reasonCodes(jsonOutput(mac)), ["psa.token.mac0"]);
});

test("--keys is repeatable: each PSA key is bound to its own instance, each CCA key kept", async () => {
  const { generateKeyPairSync } = await import("node:crypto");
  const other = join(home, "other-key.pem");
  await writeFile(
    other,
    generateKeyPairSync("ec", { namedCurve: "P-256" })
      .publicKey.export({ type: "spki", format: "pem" })
      .toString(),
  );
  const otherP384 = join(home, "other-cpak.pem");
  await writeFile(
    otherP384,
    generateKeyPairSync("ec", { namedCurve: "P-384" })
      .publicKey.export({ type: "spki", format: "pem" })
      .toString(),
  );
  const policy = join(home, "psa-policy-2.json");
  await writeFile(policy, JSON.stringify({ platforms: ["psa"] }));
  const psa = vector("psa/tf-m-p2-sign1", "token");
  const tfm = vector("psa/tf-m-p2-sign1", "key");
  const cca = vector("cca/tf-rmm-token-01", "token");
  const cpak = vector("cca/tf-rmm-token-01", "cpak_pem");
  const [both, onlyOther, ccaBoth, ccaOther] = await Promise.all([
    verify(psa, "--keys", other, "--keys", tfm, "--policy", policy, "--json"),
    verify(psa, "--keys", other, "--keys", other, "--policy", policy, "--json"),
    verify(cca, "--keys", otherP384, "--keys", cpak, "--authenticity-only", "--json"),
    verify(cca, "--keys", otherP384, "--keys", otherP384, "--authenticity-only", "--json"),
  ]);
  assert.equal(both.code, 0, both.stderr);
  assert.equal(jsonOutput(both).status, "affirming");
  // Two copies of a key that is not the device's: an error naming the duplicate instance.
  assert.equal(onlyOther.code, 1);
  assert.match(onlyOther.stderr + onlyOther.stdout, /listed twice|psa\.endorsements\.invalid/);
  assert.equal(ccaBoth.code, 0, ccaBoth.stderr);
  assert.equal(ccaOther.code, 1);
});
