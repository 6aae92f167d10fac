import type { KemInterface } from "@hpke/core";
import { OhttpError } from "./errors.js";

// X25519(k, 9) is the public key of k. Deriving it with deriveBits avoids exporting the
// private key as JWK, which some browsers refuse for imported X25519 keys.
const BASE_POINT = new Uint8Array(32);
BASE_POINT[0] = 9;

/** A key pair from a raw 32-byte X25519 private key. */
export async function importX25519KeyPair(
  kem: KemInterface,
  privateKey: Uint8Array,
  what: string,
): Promise<CryptoKeyPair> {
  if (privateKey.length !== 32) {
    throw new OhttpError(
      "ohttp.invalid_argument",
      `${what} must be a raw 32-byte X25519 private key, got ${privateKey.length} bytes.`,
    );
  }
  try {
    const secret = await kem.deserializePrivateKey(privateKey);
    const basePoint = await kem.deserializePublicKey(BASE_POINT);
    const raw = await crypto.subtle.deriveBits({ name: "X25519", public: basePoint }, secret, 256);
    return { privateKey: secret, publicKey: await kem.deserializePublicKey(raw) };
  } catch (cause) {
    throw new OhttpError("ohttp.invalid_argument", `${what} is not a usable X25519 key.`, {
      cause,
    });
  }
}
