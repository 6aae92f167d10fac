import { concat, sha256, utf8 } from "../bytes.js";

const LABEL = utf8("cloister/edge-release/v1");

/**
 * The nonce the device's PSA token must carry: SHA-256("cloister/edge-release/v1" || challenge
 * || public key). Binding the public key into the signed token is what stops a relay: a token
 * obtained for one key pair cannot release a key to another. 32 bytes, the challenge size every
 * PSA RoT supports (TF-M also allows 48 and 64).
 */
export function releaseNonce(challenge: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array> {
  return sha256(concat([LABEL, challenge, publicKey]));
}
