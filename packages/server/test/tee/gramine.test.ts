import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { gramineProvider, TeeError } from "../../src/tee/index.js";
import { tempDir } from "./temp.js";
import { vector } from "./vectors.js";

/** A temp directory laid out like Gramine's /dev/attestation; `quote` is static here. */
async function attestationDir(type: string, quote: Uint8Array): Promise<string> {
  const dir = join(await tempDir(), "dev", "attestation");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "attestation_type"), type);
  await writeFile(join(dir, "quote"), quote);
  return dir;
}

test("SGX: a real DCAP quote comes back byte for byte", async () => {
  const quote = await vector("sgx/dcap-qvl/sgx_quote");
  // The quote was made over "Hello, world!" and zeros; asking for the same keeps the picture true.
  const reportData = new Uint8Array(64);
  reportData.set(new TextEncoder().encode("Hello, world!"));
  const dir = await attestationDir("dcap\n", quote);
  const provider = await gramineProvider({ root: dir });
  assert.equal(provider.platform, "sgx");
  const { evidence, collateral } = await provider.getEvidence(reportData);
  assert.equal(evidence.platform, "sgx");
  assert.equal(evidence.format, "sgx-quote");
  assert.deepEqual(evidence.data, quote);
  // REPORTDATA sits at 48 (header) + 320 in a v3 quote.
  assert.deepEqual(evidence.data.subarray(368, 432), reportData);
  assert.deepEqual(collateral, {});
  assert.deepEqual(new Uint8Array(await readFile(join(dir, "user_report_data"))), reportData);
});

test("attestation types other than dcap are refused", async () => {
  for (const type of ["none", "epid"]) {
    const dir = await attestationDir(type, new Uint8Array([1]));
    await assert.rejects(gramineProvider({ root: dir }), (error) => {
      assert.ok(error instanceof TeeError);
      assert.equal(error.code, "tee.gramine_attestation_type");
      assert.match(error.message, new RegExp(`"${type}"`));
      return true;
    });
  }
});

test("a missing interface, a bad length and an empty quote are typed errors", async () => {
  await assert.rejects(gramineProvider({ root: join(await tempDir(), "absent") }), {
    code: "tee.gramine_unavailable",
  });
  const dir = await attestationDir("dcap", new Uint8Array());
  const provider = await gramineProvider({ root: dir });
  await assert.rejects(provider.getEvidence(new Uint8Array(65)), { code: "tee.report_data" });
  await assert.rejects(provider.getEvidence(new Uint8Array(64)), { code: "tee.gramine_io" });
});

test("requests take turns, and a failed one does not hold up the next", async () => {
  const dir = await attestationDir("dcap", new Uint8Array());
  const provider = await gramineProvider({ root: dir });
  const failed = provider.getEvidence(new Uint8Array(64).fill(1));
  const second = failed
    .catch(() => writeFile(join(dir, "quote"), new Uint8Array([5])))
    .then(() => provider.getEvidence(new Uint8Array(64).fill(2)));
  await assert.rejects(failed, { code: "tee.gramine_io" });
  assert.deepEqual((await second).evidence.data, new Uint8Array([5]));

  const [a, b] = await Promise.all([
    provider.getEvidence(new Uint8Array(64).fill(3)),
    provider.getEvidence(new Uint8Array(64).fill(4)),
  ]);
  assert.deepEqual([a.evidence.data, b.evidence.data], [new Uint8Array([5]), new Uint8Array([5])]);
  // The later request wrote last: the two never interleaved out of order.
  assert.deepEqual(
    new Uint8Array(await readFile(join(dir, "user_report_data"))),
    new Uint8Array(64).fill(4),
  );
});
