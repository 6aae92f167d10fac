import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatReceipt,
  type ReceiptBody,
  ReceiptError,
  receiptSigningInput,
  sha256,
  toBase64Url,
  toHex,
  utf8,
  verifyReceipt,
} from "@cloister/core";

const request = utf8("POST /v1/chat/completions (binary HTTP bytes)");
const response = utf8('{"choices":[]}');
const manifest = `sha256:${"11".repeat(32)}`;

async function signed(overrides: Partial<ReceiptBody> = {}) {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const publicKey = toBase64Url(
    new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)),
  );
  const body: ReceiptBody = {
    v: 1,
    seq: 7,
    time: "2026-11-25T12:00:00.000Z",
    manifest,
    model: `sha256:${"22".repeat(32)}`,
    request: `sha256:${toHex(await sha256(request))}`,
    response: `sha256:${toHex(await sha256(response))}`,
    status: 200,
    ...overrides,
  };
  const signature = new Uint8Array(
    await crypto.subtle.sign(
      { name: "Ed25519" },
      pair.privateKey,
      receiptSigningInput(body) as Uint8Array<ArrayBuffer>,
    ),
  );
  return { text: formatReceipt(body, signature), publicKey, body, signature };
}

const code = (expected: string) => (error: unknown) =>
  error instanceof ReceiptError && error.code === expected;

test("a receipt verifies against the attested key and the exact request and response", async () => {
  const { text, publicKey, body } = await signed();
  assert.deepEqual(await verifyReceipt(text, { publicKey, manifest, request, response }), body);
});

test("a tampered receipt body is refused", async () => {
  const { publicKey, signature, body } = await signed();
  const forged = formatReceipt({ ...body, seq: 8 }, signature);
  await assert.rejects(
    verifyReceipt(forged, { publicKey, manifest, request, response }),
    code("receipt.signature"),
  );
});

test("a receipt signed by another key is refused", async () => {
  const { text } = await signed();
  const other = await signed();
  await assert.rejects(
    verifyReceipt(text, { publicKey: other.publicKey, manifest, request, response }),
    code("receipt.signature"),
  );
});

test("a receipt for another request, response or manifest is refused", async () => {
  const { text, publicKey } = await signed();
  await assert.rejects(
    verifyReceipt(text, { publicKey, manifest, request: utf8("other"), response }),
    code("receipt.request"),
  );
  await assert.rejects(
    verifyReceipt(text, { publicKey, manifest, request, response: utf8("other") }),
    code("receipt.response"),
  );
  await assert.rejects(
    verifyReceipt(text, { publicKey, manifest: `sha256:${"33".repeat(32)}`, request, response }),
    code("receipt.manifest"),
  );
});

test("malformed receipts get a typed parse error", async () => {
  const { publicKey } = await signed();
  for (const text of [
    "",
    "abc",
    "a.b.c",
    `${toBase64Url(utf8("{}"))}.${toBase64Url(new Uint8Array(64))}`,
    `${toBase64Url(utf8("not json"))}.${toBase64Url(new Uint8Array(64))}`,
  ]) {
    await assert.rejects(
      verifyReceipt(text, { publicKey, manifest, request, response }),
      code("receipt.parse"),
    );
  }
});
