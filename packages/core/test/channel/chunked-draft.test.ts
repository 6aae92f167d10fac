import assert from "node:assert/strict";
import { test } from "node:test";
import {
  chunkNonce,
  concat,
  decapsulateChunkedRequest,
  decodeKeyConfig,
  encapsulateChunkedRequest,
  importGatewayKey,
  toHex,
  utf8,
} from "@cloister/core";
import { type ExampleValues, hex, readAll, streamOf, vectorBytes, vectorJson } from "./vectors.js";

const DIR = "ohttp/chunked-draft";

const v = vectorJson<ExampleValues & { chunk_nonces: string[] }>(`${DIR}/example-values.json`);
const config = decodeKeyConfig(vectorBytes(`${DIR}/key-config.bin`));
const request = hex(v.request);
const responseNonce = hex(v.enc_response).subarray(0, 16);

test("chunked draft: the client seals the example request chunk by chunk", async () => {
  assert.equal(toHex(vectorBytes(`${DIR}/key-config.bin`)), v.key_config);
  const client = await encapsulateChunkedRequest(
    config,
    [request.subarray(0, 12), request.subarray(12), new Uint8Array(0)],
    { ephemeralPrivateKey: hex(v.skE) },
  );
  assert.equal(toHex(client.encapsulated), v.enc_request);
  assert.deepEqual(client.encapsulated, vectorBytes(`${DIR}/encapsulated-request.bin`));
  assert.equal(
    toHex(await client.exportSecret(utf8("message/bhttp chunked response"), 16)),
    v.secret,
  );
});

test("chunked draft: the gateway opens the request and seals the example response", async () => {
  const key = await importGatewayKey(config.keyId, hex(v.skR), config.suites);
  const gateway = await decapsulateChunkedRequest(
    [key],
    vectorBytes(`${DIR}/encapsulated-request.bin`),
  );
  assert.deepEqual(gateway.request, request);
  assert.equal(toHex(gateway.enc), v.pkE);
  assert.equal(
    toHex(await gateway.exportSecret(utf8("message/bhttp chunked response"), 16)),
    v.secret,
  );
  assert.equal(toHex(concat([gateway.enc, responseNonce])), v.salt);

  const sealer = await gateway.responseSealer({ responseNonce });
  const response = hex(v.response);
  const parts = [
    sealer.header,
    await sealer.seal(response.subarray(0, 1)),
    await sealer.seal(response.subarray(1)),
    await sealer.sealFinal(),
  ];
  assert.deepEqual(
    parts.map((p) => p.length),
    [16, 18, 19, 17],
  );
  assert.equal(toHex(concat(parts)), v.enc_response);
  assert.deepEqual(concat(parts), vectorBytes(`${DIR}/encapsulated-response.bin`));
});

test("chunked draft: chunk nonces are the AEAD nonce XOR the counter", () => {
  const base = hex(v.aead_nonce);
  v.chunk_nonces.forEach((nonce, counter) => {
    assert.equal(toHex(chunkNonce(base, counter)), nonce);
  });
  assert.equal(toHex(chunkNonce(base, 256)), "fead854635d2d5527d64f446");
  assert.equal(toHex(chunkNonce(base, 2 ** 40)), "fead854635d2d4527d64f546");
});

test("chunked draft: the client streams the example response open, chunk by chunk", async () => {
  const client = await encapsulateChunkedRequest(
    config,
    [request.subarray(0, 12), request.subarray(12), new Uint8Array(0)],
    { ephemeralPrivateKey: hex(v.skE) },
  );
  const body = vectorBytes(`${DIR}/encapsulated-response.bin`);
  for (const cuts of [[], [1, 17, 20, 40, 69], Array.from(body.keys())]) {
    const chunks = await readAll(client.openResponse(streamOf(body, cuts)));
    assert.deepEqual(
      chunks.map((c) => toHex(c)),
      ["01", "40c8"],
    );
  }
});
