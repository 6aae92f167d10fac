import assert from "node:assert/strict";
import { test } from "node:test";
import {
  concat,
  DEFAULT_SUITE,
  decapsulateRequest,
  decodeKeyConfig,
  decodeRequest,
  decodeResponse,
  encapsulateRequest,
  encodeKeyConfig,
  encodeRequest,
  encodeResponse,
  importGatewayKey,
  KEM_X25519_HKDF_SHA256,
  toHex,
  utf8,
} from "@cloister/core";
import { type ExampleValues, hex, vectorBytes, vectorJson } from "./vectors.js";

const DIR = "ohttp/rfc9458-appendix-a";

const v = vectorJson<ExampleValues>(`${DIR}/appendix-a-values.json`);

test("RFC 9458 A: the key configuration decodes, re-encodes and matches the gateway key", async () => {
  const bytes = vectorBytes(`${DIR}/key-config.bin`);
  assert.equal(toHex(bytes), v.key_config);
  const config = decodeKeyConfig(bytes);
  assert.equal(config.keyId, 1);
  assert.equal(config.kemId, KEM_X25519_HKDF_SHA256);
  assert.deepEqual(config.suites, [
    { kdfId: 1, aeadId: 1 },
    { kdfId: 1, aeadId: 3 },
  ]);
  assert.deepEqual(encodeKeyConfig(config), bytes);
  const key = await importGatewayKey(1, hex(v.skR), config.suites);
  assert.deepEqual(encodeKeyConfig(key.config), bytes);
});

test("RFC 9458 A: the whole exchange reproduces byte for byte", async () => {
  const config = decodeKeyConfig(vectorBytes(`${DIR}/key-config.bin`));
  const request = vectorBytes(`${DIR}/request.bhttp`);
  const client = await encapsulateRequest(config, request, {
    ephemeralPrivateKey: hex(v.skE),
  });
  assert.equal(toHex(client.encapsulated), v.enc_request);
  assert.deepEqual(client.encapsulated, vectorBytes(`${DIR}/encapsulated-request.bin`));

  const key = await importGatewayKey(1, hex(v.skR), config.suites);
  const gateway = await decapsulateRequest([key], vectorBytes(`${DIR}/encapsulated-request.bin`));
  assert.deepEqual(gateway.request, request);
  assert.equal(gateway.keyId, 1);
  assert.equal(toHex(gateway.enc), v.pkE);

  const secret = await gateway.exportSecret(utf8("message/bhttp response"), 16);
  assert.equal(toHex(secret), v.secret);
  assert.equal(toHex(await client.exportSecret(utf8("message/bhttp response"), 16)), v.secret);

  const responseNonce = hex(v.enc_response).subarray(0, 16);
  assert.equal(toHex(concat([gateway.enc, responseNonce])), v.salt);
  const sealed = await gateway.sealResponse(vectorBytes(`${DIR}/response.bhttp`), {
    responseNonce,
  });
  assert.equal(toHex(sealed), v.enc_response);
  assert.deepEqual(sealed, vectorBytes(`${DIR}/encapsulated-response.bin`));

  const opened = await client.openResponse(vectorBytes(`${DIR}/encapsulated-response.bin`));
  assert.equal(toHex(opened), v.response);
});

test("RFC 9458 A: the inner messages are truncated Binary HTTP", () => {
  const request = decodeRequest(vectorBytes(`${DIR}/request.bhttp`));
  assert.deepEqual(
    { ...request, content: [...request.content] },
    {
      method: "GET",
      scheme: "https",
      authority: "example.com",
      path: "/",
      headers: [],
      content: [],
      trailers: [],
    },
  );
  assert.equal(toHex(encodeRequest(request, { truncate: true })), v.request);
  const response = decodeResponse(vectorBytes(`${DIR}/response.bhttp`));
  assert.equal(response.status, 200);
  assert.equal(toHex(encodeResponse(response, { truncate: true })), v.response);
});

test("RFC 9458 A: the client picks HKDF-SHA256 + AES-128-GCM by default", async () => {
  const config = decodeKeyConfig(vectorBytes(`${DIR}/key-config.bin`));
  const { encapsulated } = await encapsulateRequest(config, new Uint8Array(1));
  assert.deepEqual(
    [...encapsulated.subarray(3, 7)],
    [0, DEFAULT_SUITE.kdfId, 0, DEFAULT_SUITE.aeadId],
  );
});
