/**
 * Every reason an encrypted model file is refused, as `CloisterError.code`. Header problems
 * come as ParseError (field and offset named); the rest as CloisterError.
 */
export const ENCRYPTED_MODEL_ERROR_CODES = [
  "model.encrypted.magic",
  "model.encrypted.version",
  "model.encrypted.algorithm",
  "model.encrypted.segment-size",
  "model.encrypted.length",
  "model.encrypted.key-id",
  "model.encrypted.header",
  /** The key ring holds no key with the header's key ID. */
  "model.encrypted.unknown-key",
  /** A key with the right ID but other bytes: the header's key commitment does not match. */
  "model.encrypted.wrong-key",
  /** A segment's tag does not verify: tampered, reordered, swapped or from another file. */
  "model.encrypted.authentication",
  /** The file ends before the final segment. */
  "model.encrypted.truncated",
  /** Bytes follow the final segment. */
  "model.encrypted.trailing-data",
  /** Every segment authenticated, but the plaintext's SHA-256 is not the header's. */
  "model.encrypted.digest",
] as const;

export type EncryptedModelErrorCode = (typeof ENCRYPTED_MODEL_ERROR_CODES)[number];
