import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  AEAD_CHACHA20_POLY1305,
  concat,
  DEFAULT_SUITE,
  decapsulateChunkedRequest,
  decapsulateRequest,
  encapsulateChunkedRequest,
  encapsulateRequest,
  type GatewayKey,
  generateGatewayKey,
  hpkeCipherSuite,
  KDF_HKDF_SHA256,
  MAX_CHUNK_PLAINTEXT,
  MAX_RECEIVED_CHUNK,
  OhttpError,
  utf8,
} from "@cloister/core";
import { readAll, rejectsWith, streamOf } from "./vectors.js";

async function exchange(key: GatewayKey, request: Uint8Array | Uint8Array[]) {
  const client = await encapsulateChunkedRequest(key.config, request);
  const gateway = await decapsulateChunkedRequest([key], client.encapsulated);
  const sealer = await gateway.responseSealer();
  return { client, gateway, sealer };
}

/** Splits a framed chunked body after its nonce into [prefix, ...each length-prefixed chunk]. */
function chunksOf(body: Uint8Array, start: number): Uint8Array[] {
  const out = [body.subarray(0, start)];
  let pos = start;
  while (pos < body.length) {
    const length = body[pos] as number; // every chunk here is below 64 bytes: a 1-byte varint
    const end = length === 0 ? body.length : pos + 1 + length;
    out.push(body.subarray(pos, end));
    pos = end;
  }
  return out;
}

test("chunked requests and responses round-trip with each AEAD", async () => {
  for (const aeadId of [AEAD_AES_128_GCM, AEAD_AES_256_GCM, AEAD_CHACHA20_POLY1305]) {
    const suite = { kdfId: KDF_HKDF_SHA256, aeadId };
    const key = await generateGatewayKey(4, [suite]);
    const { client, gateway, sealer } = await exchange(key, [utf8("hello "), utf8("world")]);
    assert.deepEqual(gateway.request, utf8("hello world"));
    const body = concat([
      sealer.header,
      await sealer.seal(utf8("tok1")),
      await sealer.seal(new Uint8Array(0)),
      await sealer.seal(utf8("tok2")),
      await sealer.sealFinal(utf8("done")),
    ]);
    const chunks = await readAll(client.openResponse(streamOf(body, [3, 40])));
    assert.deepEqual(chunks, [utf8("tok1"), utf8("tok2"), utf8("done")]);
  }
});

test("a single-buffer request is one final chunk; large ones are split at 16 KiB", async () => {
  const key = await generateGatewayKey(1);
  const small = await encapsulateChunkedRequest(key.config, utf8("abc"));
  // hdr (7) + enc (32) + 00 + sealed (3 + 16)
  assert.equal(small.encapsulated.length, 7 + 32 + 1 + 19);
  assert.equal(small.encapsulated[39], 0);
  const big = crypto.getRandomValues(new Uint8Array(2 * MAX_CHUNK_PLAINTEXT + 5));
  const { gateway, client, sealer } = await exchange(key, big);
  assert.deepEqual(gateway.request, big);
  const sealed = await sealer.seal(big);
  // Three chunks of 16400, 16400 and 21 sealed bytes, behind 4-, 4- and 1-byte lengths.
  assert.equal(sealed.length, 2 * (4 + MAX_CHUNK_PLAINTEXT + 16) + 1 + 5 + 16);
  const body = concat([sealer.header, sealed, await sealer.sealFinal(big.subarray(0, 20_000))]);
  const chunks = await readAll(client.openResponse(streamOf(body, [100, 20_000, 50_000])));
  assert.deepEqual(
    chunks.map((c) => c.length),
    [
      MAX_CHUNK_PLAINTEXT,
      MAX_CHUNK_PLAINTEXT,
      5,
      MAX_CHUNK_PLAINTEXT,
      20_000 - MAX_CHUNK_PLAINTEXT,
    ],
  );
  assert.deepEqual(concat(chunks), concat([big, big.subarray(0, 20_000)]));
});

test("each chunk is passed on as soon as it is complete", async () => {
  const key = await generateGatewayKey(1);
  const { client, sealer } = await exchange(key, utf8("q"));
  let feed: ReadableStreamDefaultController<Uint8Array> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      feed = controller;
    },
  });
  const reader = client.openResponse(body).getReader();
  const first = await sealer.seal(utf8("first"));
  feed?.enqueue(sealer.header);
  feed?.enqueue(first.subarray(0, 4));
  feed?.enqueue(first.subarray(4));
  assert.deepEqual((await reader.read()).value, utf8("first"));
  feed?.enqueue(await sealer.sealFinal(utf8("last")));
  feed?.close();
  assert.deepEqual((await reader.read()).value, utf8("last"));
  assert.equal((await reader.read()).done, true);
});

test("overlapping seal calls still leave in call order", async () => {
  const key = await generateGatewayKey(1);
  const { client, sealer } = await exchange(key, utf8("q"));
  const big = new Uint8Array(MAX_CHUNK_PLAINTEXT + 1).fill(7);
  const parts = await Promise.all([
    sealer.seal(big),
    sealer.seal(utf8("b")),
    sealer.sealFinal(utf8("c")),
  ]);
  const chunks = await readAll(client.openResponse(streamOf(concat([sealer.header, ...parts]))));
  assert.deepEqual(concat(chunks), concat([big, utf8("bc")]));
});

test("a response that ends before its final chunk errors with ohttp.truncated", async () => {
  const key = await generateGatewayKey(1);
  const { client, sealer } = await exchange(key, utf8("q"));
  const nonFinal = concat([
    sealer.header,
    await sealer.seal(utf8("a")),
    await sealer.seal(utf8("b")),
  ]);
  for (const body of [
    new Uint8Array(0),
    sealer.header.subarray(0, 10),
    sealer.header,
    nonFinal,
    nonFinal.subarray(0, nonFinal.length - 1),
  ]) {
    await rejectsWith(readAll(client.openResponse(streamOf(body))), "ohttp.truncated");
  }
  const failing = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(nonFinal);
      controller.error(new Error("connection reset"));
    },
  });
  await rejectsWith(readAll(client.openResponse(failing)), "ohttp.truncated");
});

test("a final chunk sealed without the final AAD, or chunks out of order, fail to decrypt", async () => {
  const key = await generateGatewayKey(1);
  const { client, sealer } = await exchange(key, utf8("q"));
  const a = await sealer.seal(utf8("a"));
  const b = await sealer.seal(utf8("b"));
  const notFinal = await sealer.seal(utf8("c"));
  // Re-frame the third chunk as the final one: its AAD was empty, not "final".
  const forged = concat([sealer.header, a, b, new Uint8Array([0]), notFinal.subarray(1)]);
  await rejectsWith(readAll(client.openResponse(streamOf(forged))), "ohttp.decrypt");
  const final = await sealer.sealFinal();
  const swapped = concat([sealer.header, b, a, notFinal, final]);
  await rejectsWith(readAll(client.openResponse(streamOf(swapped))), "ohttp.decrypt");
  const dropped = concat([sealer.header, a, notFinal, final]);
  await rejectsWith(readAll(client.openResponse(streamOf(dropped))), "ohttp.decrypt");
  const good = concat([sealer.header, a, b, notFinal, final]);
  assert.deepEqual(concat(await readAll(client.openResponse(streamOf(good)))), utf8("abc"));
  await rejectsWith(sealer.seal(utf8("late")), "ohttp.invalid_state");
  await rejectsWith(sealer.sealFinal(), "ohttp.invalid_state");
});

test("a response chunk announcing more than the limit is refused before it is buffered", async () => {
  const key = await generateGatewayKey(1);
  const { client, sealer } = await exchange(key, utf8("q"));
  const huge = new Uint8Array([0x80 | 0x00, 0x20, 0x00, 0x00]); // varint 2^21
  assert.ok(2 ** 21 > MAX_RECEIVED_CHUNK);
  await rejectsWith(
    readAll(client.openResponse(streamOf(concat([sealer.header, huge])))),
    "ohttp.malformed",
  );
});

test("the gateway refuses chunked requests that are cut short or forged", async () => {
  const key = await generateGatewayKey(1);
  const client = await encapsulateChunkedRequest(key.config, [utf8("ab"), utf8("cd"), utf8("")]);
  const [prefix, first, second, final] = chunksOf(client.encapsulated, 39) as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  await rejectsWith(
    decapsulateChunkedRequest([key], concat([prefix, first, second])),
    "ohttp.truncated",
  );
  await rejectsWith(
    decapsulateChunkedRequest([key], concat([prefix, first, second.subarray(0, 5)])),
    "ohttp.truncated",
  );
  await rejectsWith(
    decapsulateChunkedRequest(
      [key],
      concat([prefix, first, new Uint8Array([0]), second.subarray(1)]),
    ),
    "ohttp.decrypt",
  );
  await rejectsWith(
    decapsulateChunkedRequest([key], concat([prefix, second, first, final])),
    "ohttp.decrypt",
  );
  assert.deepEqual(
    (await decapsulateChunkedRequest([key], concat([prefix, first, second, final]))).request,
    utf8("abcd"),
  );
});

test("an empty non-final request chunk is treated as a decryption error", async () => {
  const key = await generateGatewayKey(1, [DEFAULT_SUITE]);
  const suite = hpkeCipherSuite(key.config.kemId, DEFAULT_SUITE);
  const hdr = new Uint8Array([1, 0, 0x20, 0, 1, 0, 1]);
  const sender = await suite.createSenderContext({
    recipientPublicKey: await suite.kem.deserializePublicKey(key.config.publicKey),
    info: concat([utf8("message/bhttp chunked request"), new Uint8Array([0]), hdr]),
  });
  const empty = new Uint8Array(await sender.seal(new Uint8Array(0)));
  const final = new Uint8Array(await sender.seal(utf8("x"), utf8("final")));
  const body = concat([
    hdr,
    new Uint8Array(sender.enc),
    new Uint8Array([empty.length]),
    empty,
    new Uint8Array([0]),
    final,
  ]);
  await rejectsWith(decapsulateChunkedRequest([key], body), "ohttp.decrypt");
});

test("chunked and whole-message requests cannot be opened as one another", async () => {
  const key = await generateGatewayKey(1);
  const chunked = await encapsulateChunkedRequest(key.config, utf8("x"));
  await rejectsWith(decapsulateRequest([key], chunked.encapsulated), "ohttp.decrypt");
  const whole = await encapsulateRequest(key.config, utf8("x"));
  await assert.rejects(
    decapsulateChunkedRequest([key], whole.encapsulated),
    (e: unknown) => e instanceof OhttpError,
  );
});
