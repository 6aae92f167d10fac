import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { nodeAeads } from "@cloister/client/node-aead";
import {
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  AEAD_CHACHA20_POLY1305,
  decapsulateChunkedRequest,
  decapsulateRequest,
  decodeKeyConfig,
  encapsulateChunkedRequest,
  encapsulateRequest,
  importGatewayKey,
  toHex,
  useAeads,
  utf8,
  webAeads,
} from "@cloister/core";
import {
  type ExampleValues,
  hex,
  vectorBytes,
  vectorJson,
} from "../../core/test/channel/vectors.js";

before(() => useAeads(nodeAeads));
after(() => useAeads(webAeads));

test("the Node AEADs seal and open exactly as WebCrypto and the HPKE library do", async () => {
  for (const id of [AEAD_AES_128_GCM, AEAD_AES_256_GCM, AEAD_CHACHA20_POLY1305]) {
    const fast = nodeAeads(id);
    const reference = webAeads(id);
    assert.ok(fast && reference);
    const key = crypto.getRandomValues(new Uint8Array(fast.keySize));
    const iv = crypto.getRandomValues(new Uint8Array(12));
    for (const size of [0, 1, 15, 16, 17, 1000]) {
      const data = crypto.getRandomValues(new Uint8Array(size));
      const aad = utf8("final");
      const sealed: Uint8Array = new Uint8Array(
        await fast.createEncryptionContext(key).seal(iv, data, aad),
      );
      const expected: Uint8Array = new Uint8Array(
        await reference.createEncryptionContext(key.slice()).seal(iv, data, aad),
      );
      assert.deepEqual(sealed, expected, `AEAD ${id}, ${size} bytes`);
      assert.deepEqual(
        new Uint8Array(await fast.createEncryptionContext(key).open(iv, sealed, aad)),
        data,
      );
      const tampered = sealed.slice();
      tampered[0] = (tampered[0] as number) ^ 1;
      await assert.rejects(fast.createEncryptionContext(key).open(iv, tampered, aad));
      await assert.rejects(fast.createEncryptionContext(key).open(iv, sealed, utf8("other")));
    }
  }
});

test("RFC 9458 Appendix A reproduces byte for byte with the Node AEADs", async () => {
  const dir = "ohttp/rfc9458-appendix-a";
  const v = vectorJson<ExampleValues>(`${dir}/appendix-a-values.json`);
  const config = decodeKeyConfig(vectorBytes(`${dir}/key-config.bin`));
  const client = await encapsulateRequest(config, vectorBytes(`${dir}/request.bhttp`), {
    ephemeralPrivateKey: hex(v.skE),
  });
  assert.equal(toHex(client.encapsulated), v.enc_request);
  const key = await importGatewayKey(1, hex(v.skR), config.suites);
  const gateway = await decapsulateRequest([key], client.encapsulated);
  const sealed = await gateway.sealResponse(vectorBytes(`${dir}/response.bhttp`), {
    responseNonce: hex(v.enc_response).subarray(0, 16),
  });
  assert.equal(toHex(sealed), v.enc_response);
  assert.deepEqual(await client.openResponse(sealed), vectorBytes(`${dir}/response.bhttp`));
});

test("the chunked OHTTP draft example reproduces byte for byte with the Node AEADs", async () => {
  const dir = "ohttp/chunked-draft";
  const v = vectorJson<ExampleValues>(`${dir}/example-values.json`);
  const config = decodeKeyConfig(vectorBytes(`${dir}/key-config.bin`));
  const request = hex(v.request);
  const client = await encapsulateChunkedRequest(
    config,
    [request.subarray(0, 12), request.subarray(12), new Uint8Array()],
    {
      ephemeralPrivateKey: hex(v.skE),
    },
  );
  assert.deepEqual(client.encapsulated, vectorBytes(`${dir}/encapsulated-request.bin`));
  const key = await importGatewayKey(1, hex(v.skR), config.suites);
  const gateway = await decapsulateChunkedRequest([key], client.encapsulated);
  assert.deepEqual(gateway.request, request);
  const sealer = await gateway.responseSealer({
    responseNonce: hex(v.enc_response).subarray(0, 16),
  });
  const response = hex(v.response);
  const parts = [
    sealer.header,
    await sealer.seal(response.subarray(0, 1)),
    await sealer.seal(response.subarray(1)),
    await sealer.sealFinal(),
  ];
  assert.equal(parts.map(toHex).join(""), v.enc_response);
});
