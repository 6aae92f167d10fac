import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  AEAD_CHACHA20_POLY1305,
  hpkeCipherSuite,
  KDF_HKDF_SHA256,
  KEM_X25519_HKDF_SHA256,
  toHex,
} from "@cloister/core";
import { hex, vectorJson } from "./vectors.js";

interface Vector {
  mode: number;
  kem_id: number;
  kdf_id: number;
  aead_id: number;
  info: string;
  ikmR: string;
  skRm: string;
  skEm: string;
  pkRm: string;
  pkEm: string;
  enc: string;
  psk?: string;
  psk_id?: string;
  skSm?: string;
  pkSm?: string;
  encryptions: { aad: string; ct: string; pt: string }[];
  exports: { exporter_context: string; L: number; exported_value: string }[];
}

const MODE_NAMES = ["base", "psk", "auth", "auth_psk"];
const AEAD_NAMES = new Map([
  [AEAD_AES_128_GCM, "AES-128-GCM"],
  [AEAD_AES_256_GCM, "AES-256-GCM"],
  [AEAD_CHACHA20_POLY1305, "ChaCha20-Poly1305"],
]);

const vectors = vectorJson<Vector[]>("hpke/rfc9180-test-vectors-subset.json").filter(
  (v) =>
    v.kem_id === KEM_X25519_HKDF_SHA256 &&
    v.kdf_id === KDF_HKDF_SHA256 &&
    AEAD_NAMES.has(v.aead_id),
);

test("the RFC 9180 subset holds all four modes of our three suites", () => {
  assert.equal(vectors.length, 12);
});

for (const v of vectors) {
  const name = `RFC 9180 X25519/HKDF-SHA256/${AEAD_NAMES.get(v.aead_id)} mode ${MODE_NAMES[v.mode]}`;
  test(`${name}: our suite wiring reproduces every encryption and export`, async () => {
    const suite = hpkeCipherSuite(v.kem_id, { kdfId: v.kdf_id, aeadId: v.aead_id });
    const kem = suite.kem;
    const pair = async (sk: string, pk: string) => ({
      privateKey: await kem.deserializePrivateKey(hex(sk)),
      publicKey: await kem.deserializePublicKey(hex(pk)),
    });
    const derived = await kem.deriveKeyPair(hex(v.ikmR));
    assert.equal(toHex(new Uint8Array(await kem.serializePrivateKey(derived.privateKey))), v.skRm);

    const psk =
      v.psk === undefined || v.psk_id === undefined
        ? {}
        : { psk: { id: hex(v.psk_id), key: hex(v.psk) } };
    const sender =
      v.skSm === undefined || v.pkSm === undefined ? undefined : await pair(v.skSm, v.pkSm);
    const recipientKey = await pair(v.skRm, v.pkRm);

    const sealer = await suite.createSenderContext({
      recipientPublicKey: recipientKey.publicKey,
      info: hex(v.info),
      ekm: await pair(v.skEm, v.pkEm),
      ...psk,
      ...(sender === undefined ? {} : { senderKey: sender }),
    });
    assert.equal(toHex(new Uint8Array(sealer.enc)), v.enc);
    const opener = await suite.createRecipientContext({
      recipientKey,
      enc: hex(v.enc),
      info: hex(v.info),
      ...psk,
      ...(sender === undefined ? {} : { senderPublicKey: sender.publicKey }),
    });

    // Sequence numbers 0..256: the last one carries into the nonce's second-lowest byte.
    for (const [seq, e] of v.encryptions.entries()) {
      const ct = new Uint8Array(await sealer.seal(hex(e.pt), hex(e.aad)));
      assert.equal(toHex(ct), e.ct, `seal ${seq}`);
      const pt = new Uint8Array(await opener.open(hex(e.ct), hex(e.aad)));
      assert.equal(toHex(pt), e.pt, `open ${seq}`);
    }
    for (const x of v.exports) {
      const context = hex(x.exporter_context);
      assert.equal(toHex(new Uint8Array(await sealer.export(context, x.L))), x.exported_value);
      assert.equal(toHex(new Uint8Array(await opener.export(context, x.L))), x.exported_value);
    }
  });
}
