import { concat, utf8 } from "../bytes.js";
import { AEAD_AES_256_GCM, KDF_HKDF_SHA256, KEM_X25519_HKDF_SHA256 } from "../channel/constants.js";
import { hpkeCipherSuite } from "../channel/suites.js";
import { CloisterError } from "../errors.js";
import type { ReleasedKey } from "./protocol.js";

/**
 * The released key travels sealed with HPKE (RFC 9180, base mode: DHKEM(X25519, HKDF-SHA256),
 * HKDF-SHA256, AES-256-GCM) to the device's one-time public key. The associated data names the
 * challenge and the key id, so a sealed key cannot be passed off as another key or replayed
 * into another exchange.
 */
const INFO = utf8("cloister/edge-release/v1 key");

function suite() {
  return hpkeCipherSuite(KEM_X25519_HKDF_SHA256, {
    kdfId: KDF_HKDF_SHA256,
    aeadId: AEAD_AES_256_GCM,
  });
}

function aad(challengeId: string, keyId: string): Uint8Array {
  return concat([utf8(challengeId), new Uint8Array([0]), utf8(keyId)]);
}

/** A device's one-time key pair; `publicKey` is the raw 32-byte X25519 key it sends. */
export interface DeviceKeyPair {
  readonly privateKey: CryptoKey;
  readonly publicKey: Uint8Array;
}

export async function generateDeviceKeyPair(): Promise<DeviceKeyPair> {
  const kem = suite().kem;
  const pair = await kem.generateKeyPair();
  return {
    privateKey: pair.privateKey,
    publicKey: new Uint8Array(await kem.serializePublicKey(pair.publicKey)),
  };
}

export async function wrapReleasedKey(
  key: Uint8Array,
  devicePublicKey: Uint8Array,
  binding: { readonly challengeId: string; readonly keyId: string },
): Promise<ReleasedKey> {
  const hpke = suite();
  let recipientPublicKey: CryptoKey;
  try {
    recipientPublicKey = await hpke.kem.deserializePublicKey(devicePublicKey);
  } catch (cause) {
    throw new CloisterError(
      "device.release.public_key",
      "The device's public key is not a usable X25519 key.",
      { cause },
    );
  }
  const sealed = await hpke.seal(
    { recipientPublicKey, info: INFO },
    key,
    aad(binding.challengeId, binding.keyId),
  );
  return {
    keyId: binding.keyId,
    enc: new Uint8Array(sealed.enc),
    wrappedKey: new Uint8Array(sealed.ct),
  };
}

/** The device side: opens the sealed key, or throws device.release.unwrap. */
export async function unwrapReleasedKey(
  released: ReleasedKey,
  device: DeviceKeyPair,
  challengeId: string,
): Promise<Uint8Array> {
  try {
    const plain = await suite().open(
      { recipientKey: device.privateKey, enc: released.enc, info: INFO },
      released.wrappedKey,
      aad(challengeId, released.keyId),
    );
    return new Uint8Array(plain);
  } catch (cause) {
    throw new CloisterError(
      "device.release.unwrap",
      "The released key did not open with this device's key pair for this challenge.",
      { cause },
    );
  }
}
