import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { type AeadInterface, Aes128Gcm, Aes256Gcm, CipherSuite } from "@hpke/core";
import {
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  AEAD_CHACHA20_POLY1305,
  KDF_HKDF_SHA256,
  KEM_X25519_HKDF_SHA256,
  type Suite,
} from "./constants.js";
import { OhttpError } from "./errors.js";
import { DhkemX25519JsHkdf, JsHkdfSha256 } from "./hkdf.js";

/** Encapsulated key (Nenc) and public key (Npk) sizes of the KEMs this module runs. */
export const KEM_SIZES: ReadonlyMap<number, { readonly enc: number; readonly publicKey: number }> =
  new Map([[KEM_X25519_HKDF_SHA256, { enc: 32, publicKey: 32 }]]);

/** The KDFs this module runs (its HKDF is SHA-256 only, see hkdf.ts). */
const KDFS: ReadonlySet<number> = new Set([KDF_HKDF_SHA256]);

/** Makes the AEAD for an id, or undefined when it is not supported. */
export type AeadFactory = (aeadId: number) => AeadInterface | undefined;

/** WebCrypto AES-GCM (native, constant-time) and the HPKE library's ChaCha20-Poly1305. */
export const webAeads: AeadFactory = (aeadId) => {
  switch (aeadId) {
    case AEAD_AES_128_GCM:
      return new Aes128Gcm();
    case AEAD_AES_256_GCM:
      return new Aes256Gcm();
    case AEAD_CHACHA20_POLY1305:
      return new Chacha20Poly1305();
    default:
      return undefined;
  }
};

let aeads: AeadFactory = webAeads;

/**
 * Replaces the AEAD implementations for this whole process: a runtime with a faster
 * implementation of the same algorithms (Node's OpenSSL, synchronous, ~5 µs a chunk against
 * WebCrypto's ~70 µs) supplies it here. The wire format does not change.
 */
export function useAeads(factory: AeadFactory): void {
  aeads = factory;
  cache.clear();
}

/** A cipher suite with the parameters OHTTP needs next to HPKE itself. */
export interface SuiteRuntime {
  readonly hpke: CipherSuite;
  readonly kemId: number;
  readonly suite: Suite;
  readonly aead: AeadInterface;
  /** Length of the response nonce and exported secret: max(Nn, Nk). */
  readonly entropyLength: number;
}

// CipherSuite objects are stateless once built; building them per message would cost more
// than the encryption of a short prompt.
const cache = new Map<string, SuiteRuntime>();

export function isSupported(kemId: number, suite: Suite): boolean {
  return KEM_SIZES.has(kemId) && KDFS.has(suite.kdfId) && aeads(suite.aeadId) !== undefined;
}

/** The HPKE cipher suite for a KEM and symmetric pair; built once, then shared. */
export function suiteRuntime(kemId: number, suite: Suite): SuiteRuntime {
  const key = `${kemId}/${suite.kdfId}/${suite.aeadId}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const aead = aeads(suite.aeadId);
  if (kemId !== KEM_X25519_HKDF_SHA256 || !KDFS.has(suite.kdfId) || aead === undefined) {
    throw new OhttpError(
      "ohttp.unsupported_suite",
      `HPKE suite KEM 0x${hex16(kemId)}, KDF 0x${hex16(suite.kdfId)}, AEAD 0x${hex16(suite.aeadId)} is not supported.`,
    );
  }
  const hpke = new CipherSuite({
    kem: new DhkemX25519JsHkdf(),
    kdf: new JsHkdfSha256(),
    aead,
  });
  const runtime: SuiteRuntime = {
    hpke,
    kemId,
    suite: { kdfId: suite.kdfId, aeadId: suite.aeadId },
    aead: hpke.aead,
    entropyLength: Math.max(hpke.aead.keySize, hpke.aead.nonceSize),
  };
  cache.set(key, runtime);
  return runtime;
}

/**
 * The HPKE cipher suite this module uses for a KEM and symmetric pair. Exposed so that
 * RFC 9180 test vectors can check the wiring, and for protocols bound to the same keys.
 */
export function hpkeCipherSuite(kemId: number, suite: Suite): CipherSuite {
  return suiteRuntime(kemId, suite).hpke;
}

export function hex16(value: number): string {
  return value.toString(16).padStart(4, "0");
}
