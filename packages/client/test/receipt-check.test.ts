import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect } from "@cloister/client";
import { decodeKeyConfigList, fromBase64Url, ReceiptError, toBase64Url } from "@cloister/core";
import { sendEncapsulated } from "../src/encapsulated-fetch.js";
import { startTestWorkload, type TestWorkload } from "./support/workload.js";

let t: TestWorkload;
before(async () => {
  t = await startTestWorkload();
});
after(() => t.close());

/**
 * Receipts travel inside the encryption, so a relay cannot touch them; what the client must
 * catch is a receipt not signed by the attested key. Here the client expects another key.
 */
async function channelExpectingAnotherReceiptKey() {
  const session = await connect(t.workload.url, { policy: t.policy });
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
  ])) as CryptoKeyPair;
  return {
    gateway: session.url,
    keyConfig: decodeKeyConfigList(
      fromBase64Url(session.manifest.ohttpKeys) as Uint8Array,
    )[0] as ReturnType<typeof decodeKeyConfigList>[number],
    receiptKey: toBase64Url(new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey))),
    manifestDigest: `sha256:${"00".repeat(32)}`,
    fetch,
  };
}

test("a whole response whose receipt is not signed by the attested key is refused", async () => {
  const channel = await channelExpectingAnotherReceiptKey();
  const request = new Request(new URL("/v1/models", t.workload.url));
  await assert.rejects(
    sendEncapsulated(channel, request, new Uint8Array()),
    (error: unknown) => error instanceof ReceiptError && error.code === "receipt.signature",
  );
});

test("a streamed response whose receipt does not verify errors at its end", async () => {
  const channel = await channelExpectingAnotherReceiptKey();
  const body = new TextEncoder().encode(
    JSON.stringify({ model: "bigram", prompt: "h", max_tokens: 5, temperature: 0, stream: true }),
  );
  const request = new Request(new URL("/v1/completions", t.workload.url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const response = await sendEncapsulated(channel, request, body);
  assert.equal(response.status, 200);
  await assert.rejects(
    response.text(),
    (error: unknown) => error instanceof ReceiptError && error.code === "receipt.signature",
  );
});
