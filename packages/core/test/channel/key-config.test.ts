import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AEAD_AES_256_GCM,
  AEAD_CHACHA20_POLY1305,
  DEFAULT_GATEWAY_SUITES,
  decodeKeyConfig,
  decodeKeyConfigList,
  encodeKeyConfig,
  encodeKeyConfigList,
  exportGatewayPrivateKey,
  generateGatewayKey,
  importGatewayKey,
  KDF_HKDF_SHA256,
  MEDIA_TYPES,
  OhttpError,
  ParseError,
} from "@cloister/core";
import { vectorBytes } from "./vectors.js";

const RFC_CONFIG = vectorBytes("ohttp/rfc9458-appendix-a/key-config.bin");
const DRAFT_CONFIG = vectorBytes("ohttp/chunked-draft/key-config.bin");

const parseError = (code: string, field: string, offset?: number) => (e: unknown) =>
  e instanceof ParseError &&
  e.code === code &&
  e.field === field &&
  (offset === undefined || e.offset === offset);

test("application/ohttp-keys round-trips a list with 2-byte length prefixes", () => {
  const list = encodeKeyConfigList([decodeKeyConfig(RFC_CONFIG), decodeKeyConfig(DRAFT_CONFIG)]);
  assert.equal(MEDIA_TYPES.keys, "application/ohttp-keys");
  assert.deepEqual([...list.subarray(0, 2)], [0, RFC_CONFIG.length]);
  assert.deepEqual(decodeKeyConfigList(list), [
    decodeKeyConfig(RFC_CONFIG),
    decodeKeyConfig(DRAFT_CONFIG),
  ]);
  assert.deepEqual(decodeKeyConfigList(new Uint8Array(0)), []);
});

test("a list skips configurations whose KEM is unknown; a single one is refused", () => {
  const p256 = new Uint8Array([7, 0x00, 0x10, ...new Uint8Array(65), 0, 4, 0, 1, 0, 1]);
  const list = new Uint8Array([0, p256.length, ...p256, 0, RFC_CONFIG.length, ...RFC_CONFIG]);
  assert.deepEqual(decodeKeyConfigList(list), [decodeKeyConfig(RFC_CONFIG)]);
  assert.throws(
    () => decodeKeyConfig(p256),
    parseError("ohttp.unsupported_suite", "key config.kemId", 1),
  );
});

test("malformed key configurations name the field and offset", () => {
  assert.throws(
    () => decodeKeyConfig(RFC_CONFIG.subarray(0, 2)),
    parseError("ohttp.malformed", "key config", 0),
  );
  assert.throws(
    () => decodeKeyConfig(RFC_CONFIG.subarray(0, 20)),
    parseError("ohttp.malformed", "key config.publicKey", 3),
  );
  assert.throws(
    () => decodeKeyConfig(RFC_CONFIG.subarray(0, RFC_CONFIG.length - 1)),
    parseError("ohttp.malformed", "key config.suites", 35),
  );
  assert.throws(
    () => decodeKeyConfig(new Uint8Array([...RFC_CONFIG, 0])),
    parseError("ohttp.malformed", "key config.suites", 35),
  );
  const empty = RFC_CONFIG.slice(0, 37);
  empty[36] = 0;
  assert.throws(
    () => decodeKeyConfig(empty),
    parseError("ohttp.malformed", "key config.suites", 35),
  );
  assert.throws(
    () => decodeKeyConfigList(new Uint8Array([0, 50, ...RFC_CONFIG])),
    parseError("ohttp.malformed", "key config list.length", 0),
  );
  assert.throws(
    () => decodeKeyConfigList(new Uint8Array([0, RFC_CONFIG.length, ...RFC_CONFIG, 0])),
    parseError("ohttp.malformed", "key config list.length", 47),
  );
});

test("encoding refuses configurations that cannot be represented", () => {
  const config = decodeKeyConfig(RFC_CONFIG);
  for (const bad of [
    { ...config, keyId: 256 },
    { ...config, suites: [] },
    { ...config, publicKey: new Uint8Array(31) },
    { ...config, suites: [{ kdfId: 1, aeadId: 0x10000 }] },
  ]) {
    assert.throws(
      () => encodeKeyConfig(bad),
      (e: unknown) => e instanceof OhttpError && e.code === "ohttp.invalid_argument",
    );
  }
});

test("gateway keys: generated with every suite by default, exported and imported back", async () => {
  const key = await generateGatewayKey(9);
  assert.equal(key.config.keyId, 9);
  assert.equal(key.config.publicKey.length, 32);
  assert.deepEqual(key.config.suites, DEFAULT_GATEWAY_SUITES);
  const raw = await exportGatewayPrivateKey(key);
  assert.equal(raw.length, 32);
  const again = await importGatewayKey(9, raw, [
    { kdfId: KDF_HKDF_SHA256, aeadId: AEAD_CHACHA20_POLY1305 },
    { kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_256_GCM },
  ]);
  assert.deepEqual(again.config.publicKey, key.config.publicKey);
  assert.equal(again.config.suites.length, 2);
});

test("gateway keys refuse bad identifiers, key sizes and suites", async () => {
  const invalid = (code: string) => (e: unknown) => e instanceof OhttpError && e.code === code;
  await assert.rejects(generateGatewayKey(-1), invalid("ohttp.invalid_argument"));
  await assert.rejects(generateGatewayKey(1, []), invalid("ohttp.invalid_argument"));
  await assert.rejects(
    generateGatewayKey(1, [{ kdfId: 2, aeadId: 1 }]),
    invalid("ohttp.unsupported_suite"),
  );
  await assert.rejects(
    generateGatewayKey(1, [{ kdfId: 1, aeadId: 0xffff }]),
    invalid("ohttp.unsupported_suite"),
  );
  await assert.rejects(importGatewayKey(1, new Uint8Array(31)), invalid("ohttp.invalid_argument"));
});
