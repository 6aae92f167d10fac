import { type CipherGCMTypes, createCipheriv, createDecipheriv } from "node:crypto";
import {
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  AEAD_CHACHA20_POLY1305,
  type AeadEncryptionContext,
  type AeadFactory,
  type AeadInterface,
} from "@cloister/core";

type Cipher = CipherGCMTypes | "chacha20-poly1305";

const CIPHERS: ReadonlyMap<number, { readonly name: Cipher; readonly keySize: number }> = new Map([
  [AEAD_AES_128_GCM, { name: "aes-128-gcm", keySize: 16 }],
  [AEAD_AES_256_GCM, { name: "aes-256-gcm", keySize: 32 }],
  [AEAD_CHACHA20_POLY1305, { name: "chacha20-poly1305", keySize: 32 }],
]);

const TAG = 16;

type Bytes = ArrayBufferLike | ArrayBufferView;
const view = (input: Bytes): Uint8Array =>
  ArrayBuffer.isView(input)
    ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
    : new Uint8Array(input);
const buffer = (out: Buffer): ArrayBuffer =>
  out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer;

/**
 * The HPKE AEADs on Node's OpenSSL: the same algorithms and bytes as WebCrypto, but
 * synchronous, which matters when every streamed token is its own sealed chunk.
 */
export const nodeAeads: AeadFactory = (aeadId) => {
  const cipher = CIPHERS.get(aeadId);
  if (cipher === undefined) return undefined;
  const aead: AeadInterface = {
    id: aeadId as AeadInterface["id"],
    keySize: cipher.keySize,
    nonceSize: 12,
    tagSize: TAG,
    createEncryptionContext: (key) => context(cipher.name, Uint8Array.from(view(key))),
  };
  return aead;
};

function context(name: Cipher, key: Uint8Array): AeadEncryptionContext {
  return {
    async seal(iv, data, aad) {
      const plaintext = view(data);
      const c = createCipheriv(name as CipherGCMTypes, key, view(iv), { authTagLength: TAG });
      c.setAAD(view(aad), { plaintextLength: plaintext.length });
      return buffer(Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]));
    },
    async open(iv, data, aad) {
      const sealed = view(data);
      if (sealed.length < TAG) throw new Error("The ciphertext is shorter than its tag.");
      const d = createDecipheriv(name as CipherGCMTypes, key, view(iv), { authTagLength: TAG });
      d.setAAD(view(aad), { plaintextLength: sealed.length - TAG });
      d.setAuthTag(sealed.subarray(sealed.length - TAG));
      // final() throws when the tag does not authenticate; the HPKE library reports that as OpenError.
      return buffer(Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]));
    },
  };
}
