import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import {
  type AeadInterface,
  Aes128Gcm,
  Aes256Gcm,
  CipherSuite,
  DhkemX25519HkdfSha256,
  HkdfSha256,
} from "@hpke/core";
import {
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  AEAD_CHACHA20_POLY1305,
  KDF_HKDF_SHA256,
  KEM_X25519_HKDF_SHA256,
  type Suite,
} from "./constants.js";
import { OhttpError } from "./errors.js";

/** Encapsulated key (Nenc) and public key (Npk) sizes of the KEMs this module runs. */
export const KEM_SIZES: ReadonlyMap<number, { readonly enc: number; readonly publicKey: number }> =
  new Map([[KEM_X25519_HKDF_SHA256, { enc: 32, publicKey: 32 }]]);

/** WebCrypto hash behind each KDF, for the response-key HKDF that HPKE does not do for us. */
const KDF_HASHES: ReadonlyMap<number, string> = new Map([[KDF_HKDF_SHA256, "SHA-256"]]);

const AEADS: ReadonlyMap<number, () => AeadInterface> = new Map<number, () => AeadInterface>([
  [AEAD_AES_128_GCM, () => new Aes128Gcm()],
  [AEAD_AES_256_GCM, () => new Aes256Gcm()],
  [AEAD_CHACHA20_POLY1305, () => new Chacha20Poly1305()],
]);

/** A cipher suite with the parameters OHTTP needs next to HPKE itself. */
export interface SuiteRuntime {
  readonly hpke: CipherSuite;
  readonly kemId: number;
  readonly suite: Suite;
  readonly hash: string;
  readonly aead: AeadInterface;
  /** Length of the response nonce and exported secret: max(Nn, Nk). */
  readonly entropyLength: number;
}

// CipherSuite objects are stateless once built; building them per message would cost more
// than the encryption of a short prompt.
const cache = new Map<string, SuiteRuntime>();

export function isSupported(kemId: number, suite: Suite): boolean {
  return KEM_SIZES.has(kemId) && KDF_HASHES.has(suite.kdfId) && AEADS.has(suite.aeadId);
}

/** The HPKE cipher suite for a KEM and symmetric pair; built once, then shared. */
export function suiteRuntime(kemId: number, suite: Suite): SuiteRuntime {
  const key = `${kemId}/${suite.kdfId}/${suite.aeadId}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const hash = KDF_HASHES.get(suite.kdfId);
  const makeAead = AEADS.get(suite.aeadId);
  if (kemId !== KEM_X25519_HKDF_SHA256 || hash === undefined || makeAead === undefined) {
    throw new OhttpError(
      "ohttp.unsupported_suite",
      `HPKE suite KEM 0x${hex16(kemId)}, KDF 0x${hex16(suite.kdfId)}, AEAD 0x${hex16(suite.aeadId)} is not supported.`,
    );
  }
  const hpke = new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: makeAead(),
  });
  const runtime: SuiteRuntime = {
    hpke,
    kemId,
    suite: { kdfId: suite.kdfId, aeadId: suite.aeadId },
    hash,
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
