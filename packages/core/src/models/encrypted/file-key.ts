import { concat, utf8 } from "../../bytes.js";
import { hkdfExpand, hkdfExtract } from "../../channel/hkdf.js";
import { ENC_COMMITMENT_BYTES, ENC_SALT_BYTES } from "./format.js";

export const MODEL_KEY_BYTES = 32;
export const MODEL_FILE_KEY_LABEL = "cloister/model-enc/v1";

export interface ModelFileKey {
  /** The AES-256-GCM key of this file's segments. */
  readonly key: Uint8Array;
  /** Stored in the header: a decryptor holding another key learns so before any segment. */
  readonly commitment: Uint8Array;
}

/**
 * Derives the file's own key from the owner's 32-byte model key:
 * HKDF-SHA256(ikm = model key, salt = the header's salt,
 *             info = "cloister/model-enc/v1" || 0x00 || key ID, L = 64),
 * the first 32 bytes the segment key, the last 32 the key commitment. A fresh random salt per
 * file gives every file its own key, so no (key, nonce) pair can repeat across files, and a
 * segment moved between files never authenticates.
 */
export function deriveModelFileKey(
  modelKey: Uint8Array,
  salt: Uint8Array,
  keyId: string,
): ModelFileKey {
  if (modelKey.length !== MODEL_KEY_BYTES)
    throw new RangeError(`A model key is ${MODEL_KEY_BYTES} bytes.`);
  if (salt.length !== ENC_SALT_BYTES) throw new RangeError(`A salt is ${ENC_SALT_BYTES} bytes.`);
  const info = concat([utf8(MODEL_FILE_KEY_LABEL), Uint8Array.of(0), utf8(keyId)]);
  const okm = hkdfExpand(hkdfExtract(salt, modelKey), info, MODEL_KEY_BYTES + ENC_COMMITMENT_BYTES);
  return { key: okm.slice(0, MODEL_KEY_BYTES), commitment: okm.slice(MODEL_KEY_BYTES) };
}
