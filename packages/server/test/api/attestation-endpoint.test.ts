import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ATTESTATION_PATH, PROBLEMS, parseBundle, toHex, verifyWorkload } from "@cloister/core";
import { startTestWorkload, type TestWorkload } from "../../../client/test/support/workload.js";

let t: TestWorkload;
before(async () => {
  t = await startTestWorkload();
});
after(() => t.close());

const get = (query = "") => fetch(new URL(`${ATTESTATION_PATH}${query}`, t.workload.url));

test("without a nonce the same evidence is served each time, bound to the manifest", async () => {
  const first = await (await get()).json();
  const second = await (await get()).json();
  assert.deepEqual(first, second);
  const { result } = await verifyWorkload(parseBundle(first), t.policy, { now: new Date() });
  assert.equal(result.verdict, "warning");
});

test("with a nonce, fresh evidence is produced for it and echoed", async () => {
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const response = await get(`?nonce=${toHex(nonce)}`);
  assert.equal(response.headers.get("cache-control"), "no-store");
  const bundle = parseBundle(await response.json());
  assert.deepEqual(bundle.nonce, nonce);
  const { result } = await verifyWorkload(bundle, t.policy, { now: new Date(), nonce });
  assert.equal(result.checks.find((c) => c.code === "binding.report_data")?.status, "pass");
  // The same bundle checked against another nonce fails the binding: it cannot be replayed.
  const other = await verifyWorkload(bundle, t.policy, {
    now: new Date(),
    nonce: new Uint8Array(32),
  });
  assert.equal(other.result.verdict, "contraindicated");
});

test("a malformed nonce is refused with a problem document", async () => {
  for (const query of ["?nonce=xyz", "?nonce=00", `?nonce=${"00".repeat(65)}`]) {
    const response = await get(query);
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { type: string }).type, PROBLEMS.badNonce);
  }
});

test("fresh-evidence requests are rate limited", async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 40; i++) {
    statuses.push(
      (await get(`?nonce=${toHex(crypto.getRandomValues(new Uint8Array(16)))}`)).status,
    );
  }
  assert.ok(statuses.includes(429), `statuses: ${statuses.join(",")}`);
  const limited = await get(`?nonce=${toHex(crypto.getRandomValues(new Uint8Array(16)))}`);
  if (limited.status === 429) {
    assert.equal(limited.headers.get("retry-after"), "1");
    assert.equal(((await limited.json()) as { type: string }).type, PROBLEMS.rateLimited);
  }
  // Standing evidence is never limited.
  assert.equal((await get()).status, 200);
});
