/** Media types of RFC 9458 and draft-ietf-ohai-chunked-ohttp. */
export const MEDIA_TYPES = {
  request: "message/ohttp-req",
  response: "message/ohttp-res",
  chunkedRequest: "message/ohttp-chunked-req",
  chunkedResponse: "message/ohttp-chunked-res",
  keys: "application/ohttp-keys",
} as const;

/** HPKE algorithm identifiers (RFC 9180 section 7). */
export const KEM_X25519_HKDF_SHA256 = 0x0020;
export const KDF_HKDF_SHA256 = 0x0001;
export const AEAD_AES_128_GCM = 0x0001;
export const AEAD_AES_256_GCM = 0x0002;
export const AEAD_CHACHA20_POLY1305 = 0x0003;

/** One HPKE symmetric algorithm pair of a key configuration. */
export interface Suite {
  readonly kdfId: number;
  readonly aeadId: number;
}

/** The suite of RFC 9458 Appendix A; clients prefer it when a key configuration offers it. */
export const DEFAULT_SUITE: Suite = Object.freeze({
  kdfId: KDF_HKDF_SHA256,
  aeadId: AEAD_AES_128_GCM,
});

/** What a gateway key offers unless told otherwise: every AEAD this module can run. */
export const DEFAULT_GATEWAY_SUITES: readonly Suite[] = Object.freeze([
  DEFAULT_SUITE,
  Object.freeze({ kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_256_GCM }),
  Object.freeze({ kdfId: KDF_HKDF_SHA256, aeadId: AEAD_CHACHA20_POLY1305 }),
]);
