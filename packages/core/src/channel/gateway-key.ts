import {
  DEFAULT_GATEWAY_SUITES,
  DEFAULT_SUITE,
  KEM_X25519_HKDF_SHA256,
  type Suite,
} from "./constants.js";
import { OhttpError } from "./errors.js";
import type { KeyConfig } from "./key-config.js";
import { hex16, isSupported, suiteRuntime } from "./suites.js";
import { importX25519KeyPair } from "./x25519.js";

/** The gateway's half of an OHTTP key: its published configuration and its private key. */
export interface GatewayKey {
  readonly config: KeyConfig;
  readonly privateKey: CryptoKey;
}

// HPKE re-derives the public key from a lone private key on every decapsulation; handing it
// the pair instead saves two WebCrypto calls per request.
const pairs = new WeakMap<CryptoKey, Promise<CryptoKeyPair>>();

/** A fresh X25519 gateway key. By default it offers AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305. */
export async function generateGatewayKey(
  keyId: number,
  suites: readonly Suite[] = DEFAULT_GATEWAY_SUITES,
): Promise<GatewayKey> {
  checkKeyOptions(keyId, suites);
  const pair = await kem().generateKeyPair();
  return remember(keyId, suites, pair);
}

/** A gateway key from its raw 32-byte X25519 private key (as exportGatewayPrivateKey returns). */
export async function importGatewayKey(
  keyId: number,
  privateKey: Uint8Array,
  suites: readonly Suite[] = DEFAULT_GATEWAY_SUITES,
): Promise<GatewayKey> {
  checkKeyOptions(keyId, suites);
  const pair = await importX25519KeyPair(kem(), privateKey, "privateKey");
  return remember(keyId, suites, pair);
}

/** The raw 32-byte private key, for sealed storage; importGatewayKey reverses it. */
export async function exportGatewayPrivateKey(key: GatewayKey): Promise<Uint8Array> {
  try {
    return new Uint8Array(await kem().serializePrivateKey(key.privateKey));
  } catch (cause) {
    throw new OhttpError("ohttp.invalid_argument", "The gateway private key cannot be exported.", {
      cause,
    });
  }
}

/** The key pair HPKE decapsulates with. */
export function gatewayKeyPair(key: GatewayKey): Promise<CryptoKeyPair> {
  let pair = pairs.get(key.privateKey);
  if (pair === undefined) {
    pair = kem()
      .deserializePublicKey(key.config.publicKey)
      .then((publicKey) => ({ privateKey: key.privateKey, publicKey }));
    pairs.set(key.privateKey, pair);
  }
  return pair;
}

async function remember(
  keyId: number,
  suites: readonly Suite[],
  pair: CryptoKeyPair,
): Promise<GatewayKey> {
  const publicKey = new Uint8Array(await kem().serializePublicKey(pair.publicKey));
  pairs.set(pair.privateKey, Promise.resolve(pair));
  const config: KeyConfig = {
    keyId,
    kemId: KEM_X25519_HKDF_SHA256,
    publicKey,
    suites: suites.map((s) => ({ kdfId: s.kdfId, aeadId: s.aeadId })),
  };
  return { config, privateKey: pair.privateKey };
}

function checkKeyOptions(keyId: number, suites: readonly Suite[]): void {
  if (!Number.isInteger(keyId) || keyId < 0 || keyId > 0xff) {
    throw new OhttpError("ohttp.invalid_argument", "keyId must be an integer from 0 to 255.");
  }
  if (suites.length === 0) {
    throw new OhttpError("ohttp.invalid_argument", "A gateway key must offer at least one suite.");
  }
  for (const suite of suites) {
    if (!isSupported(KEM_X25519_HKDF_SHA256, suite)) {
      throw new OhttpError(
        "ohttp.unsupported_suite",
        `KDF 0x${hex16(suite.kdfId)} with AEAD 0x${hex16(suite.aeadId)} is not supported.`,
      );
    }
  }
}

function kem() {
  return suiteRuntime(KEM_X25519_HKDF_SHA256, DEFAULT_SUITE).hpke.kem;
}
