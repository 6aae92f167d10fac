import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  AEAD_CHACHA20_POLY1305,
  CloisterError,
  DEFAULT_SUITE,
  decapsulateRequest,
  encapsulateRequest,
  encodeRequest,
  generateGatewayKey,
  KDF_HKDF_SHA256,
  OhttpError,
  utf8,
} from "@cloister/core";
import { rejectsWith } from "./vectors.js";

const SUITES = [AEAD_AES_128_GCM, AEAD_AES_256_GCM, AEAD_CHACHA20_POLY1305].map((aeadId) => ({
  kdfId: KDF_HKDF_SHA256,
  aeadId,
}));

test("a request and its response round-trip with each AEAD", async () => {
  const key = await generateGatewayKey(3);
  for (const suite of SUITES) {
    const client = await encapsulateRequest(key.config, utf8("prompt"), { suite });
    assert.deepEqual([...client.encapsulated.subarray(5, 7)], [0, suite.aeadId]);
    const gateway = await decapsulateRequest([key], client.encapsulated);
    assert.deepEqual(gateway.request, utf8("prompt"));
    const sealed = await gateway.sealResponse(utf8("completion"));
    assert.equal(sealed.length, (suite.aeadId === AEAD_AES_128_GCM ? 16 : 32) + 10 + 16);
    assert.deepEqual(await client.openResponse(sealed), utf8("completion"));
  }
});

test("the gateway picks the key the request names", async () => {
  const keys = [await generateGatewayKey(1), await generateGatewayKey(2)];
  const client = await encapsulateRequest((keys[1] as (typeof keys)[1]).config, utf8("x"));
  const gateway = await decapsulateRequest(keys, client.encapsulated);
  assert.equal(gateway.keyId, 2);
});

test("an unknown key identifier is refused", async () => {
  const key = await generateGatewayKey(1);
  const other = await generateGatewayKey(2);
  const client = await encapsulateRequest(other.config, utf8("x"));
  await rejectsWith(decapsulateRequest([key], client.encapsulated), "ohttp.unknown_key");
});

test("a suite the key does not offer is refused on both sides", async () => {
  const key = await generateGatewayKey(1, [DEFAULT_SUITE]);
  const chacha = { kdfId: KDF_HKDF_SHA256, aeadId: AEAD_CHACHA20_POLY1305 };
  await rejectsWith(
    encapsulateRequest(key.config, utf8("x"), { suite: chacha }),
    "ohttp.unsupported_suite",
  );
  const wide = await generateGatewayKey(1);
  const client = await encapsulateRequest(wide.config, utf8("x"), { suite: chacha });
  await rejectsWith(decapsulateRequest([key], client.encapsulated), "ohttp.unsupported_suite");
  const unknownKem = client.encapsulated.slice();
  unknownKem[2] = 0x10;
  await rejectsWith(decapsulateRequest([wide], unknownKem), "ohttp.unsupported_suite");
  await rejectsWith(
    encapsulateRequest({ ...key.config, suites: [{ kdfId: 3, aeadId: 1 }] }, utf8("x")),
    "ohttp.unsupported_suite",
  );
});

test("a flipped bit anywhere in the ciphertext or the encapsulated key fails to decrypt", async () => {
  const key = await generateGatewayKey(1);
  const client = await encapsulateRequest(key.config, utf8("prompt"));
  for (const at of [7, 20, 38, 39, 44, client.encapsulated.length - 1]) {
    const tampered = client.encapsulated.slice();
    tampered[at] = (tampered[at] as number) ^ 0x01;
    await rejectsWith(decapsulateRequest([key], tampered), "ohttp.decrypt");
  }
  const gateway = await decapsulateRequest([key], client.encapsulated);
  const sealed = await gateway.sealResponse(utf8("completion"));
  for (const at of [0, 15, 16, sealed.length - 1]) {
    const tampered = sealed.slice();
    tampered[at] = (tampered[at] as number) ^ 0x80;
    await rejectsWith(client.openResponse(tampered), "ohttp.decrypt");
  }
});

test("a key with the right identifier but the wrong secret fails to decrypt", async () => {
  const real = await generateGatewayKey(1);
  const impostor = await generateGatewayKey(1);
  const client = await encapsulateRequest(real.config, utf8("x"));
  await rejectsWith(decapsulateRequest([impostor], client.encapsulated), "ohttp.decrypt");
});

test("a plaintext body given to decapsulateRequest is refused with a typed error", async () => {
  const keys = [await generateGatewayKey(0), await generateGatewayKey(0x7b)];
  const bodies = [
    encodeRequest({
      method: "POST",
      scheme: "https",
      authority: "cloister.example",
      path: "/v1/chat/completions",
      headers: [["content-type", "application/json"]],
      content: utf8('{"model":"m","messages":[]}'),
      trailers: [],
    }),
    utf8('{"model":"m","messages":[{"role":"user","content":"hello"}]}'),
    new Uint8Array(0),
    new Uint8Array(6),
  ];
  for (const body of bodies) {
    await assert.rejects(decapsulateRequest(keys, body), (e: unknown) => {
      assert.ok(e instanceof OhttpError, String(e));
      assert.ok(!e.message.includes("hello") && !e.message.includes("model"));
      return true;
    });
  }
});

test("short messages are malformed, not crashes", async () => {
  const key = await generateGatewayKey(1);
  const client = await encapsulateRequest(key.config, utf8("x"));
  await rejectsWith(
    decapsulateRequest([key], client.encapsulated.subarray(0, 5)),
    "ohttp.malformed",
  );
  await rejectsWith(
    decapsulateRequest([key], client.encapsulated.subarray(0, 30)),
    "ohttp.malformed",
  );
  await rejectsWith(
    decapsulateRequest([key], client.encapsulated.subarray(0, 50)),
    "ohttp.malformed",
  );
  await rejectsWith(client.openResponse(new Uint8Array(31)), "ohttp.malformed");
  await rejectsWith(client.openResponse(new Uint8Array(32)), "ohttp.decrypt");
});

test("bad arguments are typed errors", async () => {
  const key = await generateGatewayKey(1);
  await rejectsWith(
    encapsulateRequest(key.config, utf8("x"), { ephemeralPrivateKey: new Uint8Array(5) }),
    "ohttp.invalid_argument",
  );
  await rejectsWith(
    encapsulateRequest({ ...key.config, publicKey: new Uint8Array(5) }, utf8("x")),
    "ohttp.invalid_argument",
  );
  const client = await encapsulateRequest(key.config, utf8("x"));
  const gateway = await decapsulateRequest([key], client.encapsulated);
  await rejectsWith(
    gateway.sealResponse(utf8("y"), { responseNonce: new Uint8Array(12) }),
    "ohttp.invalid_argument",
  );
  await assert.rejects(gateway.exportSecret(utf8("label"), 1 << 20), CloisterError);
});
