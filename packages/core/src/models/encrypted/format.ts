import { fromUtf8, utf8 } from "../../bytes.js";
import { ParseError } from "../../errors.js";

/**
 * The header of an encrypted model file (docs/model-encryption-format.md is the byte-level
 * spec). It is the contract between the model owner who encrypts and the workload that decrypts,
 * so it lives here and nowhere else. Every segment authenticates the whole header as AAD.
 */

/** "CLOISTER-ENC" in ASCII. */
export const ENCRYPTED_MODEL_MAGIC: Uint8Array = utf8("CLOISTER-ENC");
export const ENCRYPTED_MODEL_VERSION = 1;
/** AES-256-GCM segments, HKDF-SHA256 file key and key commitment, 7-4-1 STREAM nonces. */
export const ENCRYPTED_MODEL_ALGORITHM = 1;

export const ENC_TAG_BYTES = 16;
export const ENC_NONCE_PREFIX_BYTES = 7;
export const ENC_SALT_BYTES = 32;
export const ENC_DIGEST_BYTES = 32;
export const ENC_COMMITMENT_BYTES = 32;
export const ENC_MIN_SEGMENT_SIZE = 4096;
/** The decryptor holds one segment in memory: this bounds what a hostile header can make it allocate. */
export const ENC_MAX_SEGMENT_SIZE = 64 * 1024 * 1024;
export const ENC_DEFAULT_SEGMENT_SIZE = 1024 * 1024;
export const ENC_MAX_KEY_ID_BYTES = 255;
/** The segment counter is 32 bits wide. */
export const ENC_MAX_SEGMENTS = 2 ** 32;

const OFFSET = {
  version: 12,
  algorithm: 13,
  segmentSize: 14,
  plaintextLength: 18,
  plaintextSha256: 26,
  salt: 58,
  noncePrefix: 90,
  keyCommitment: 97,
  keyIdLength: 129,
  keyId: 130,
} as const;

/** Bytes before the key ID; a header is this plus the key ID's length. */
export const ENC_HEADER_FIXED_BYTES = OFFSET.keyId;
export const ENC_MAX_HEADER_BYTES = ENC_HEADER_FIXED_BYTES + ENC_MAX_KEY_ID_BYTES;

export interface EncryptedModelHeader {
  readonly segmentSize: number;
  readonly plaintextLength: number;
  readonly plaintextSha256: Uint8Array;
  readonly salt: Uint8Array;
  readonly noncePrefix: Uint8Array;
  /** Derived from the key with the salt (see deriveModelFileKey): tells a wrong key from tampering. */
  readonly keyCommitment: Uint8Array;
  readonly keyId: string;
}

/** Why a key ID is unacceptable, or undefined when it is fine. */
export function modelKeyIdProblem(keyId: string): string | undefined {
  const length = utf8(keyId).length;
  if (length === 0 || length > ENC_MAX_KEY_ID_BYTES)
    return `a key ID is 1 to ${ENC_MAX_KEY_ID_BYTES} bytes of UTF-8, not ${length}.`;
  // Key IDs reach terminals and logs: no control characters.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to refuse them.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(keyId))
    return "a key ID may not contain control characters.";
  return undefined;
}

/** Number of segments for a plaintext: at least one, so that even an empty file authenticates its header. */
export function encSegmentCount(plaintextLength: number, segmentSize: number): number {
  return Math.max(1, Math.ceil(plaintextLength / segmentSize));
}

/** Plaintext bytes in segment `index`: full segments, then the remainder in the last one. */
export function encSegmentPlaintextBytes(header: EncryptedModelHeader, index: number): number {
  const last = encSegmentCount(header.plaintextLength, header.segmentSize) - 1;
  return index < last ? header.segmentSize : header.plaintextLength - last * header.segmentSize;
}

/** The size of the whole encrypted file: header, ciphertext and one tag per segment. */
export function encryptedFileBytes(header: EncryptedModelHeader): number {
  return (
    ENC_HEADER_FIXED_BYTES +
    utf8(header.keyId).length +
    header.plaintextLength +
    ENC_TAG_BYTES * encSegmentCount(header.plaintextLength, header.segmentSize)
  );
}

function problemInSizes(
  segmentSize: number,
  plaintextLength: number,
): [string, string] | undefined {
  if (
    !Number.isSafeInteger(segmentSize) ||
    segmentSize < ENC_MIN_SEGMENT_SIZE ||
    segmentSize > ENC_MAX_SEGMENT_SIZE
  )
    return [
      "segment-size",
      `the segment size must be ${ENC_MIN_SEGMENT_SIZE} to ${ENC_MAX_SEGMENT_SIZE} bytes, not ${segmentSize}.`,
    ];
  if (!Number.isSafeInteger(plaintextLength) || plaintextLength < 0)
    return ["length", "the plaintext length must be a whole number of bytes below 2^53."];
  if (encSegmentCount(plaintextLength, segmentSize) > ENC_MAX_SEGMENTS)
    return ["length", `the plaintext needs more than 2^32 segments of ${segmentSize} bytes.`];
  return undefined;
}

function exact(bytes: Uint8Array, length: number, field: string): void {
  if (bytes.length !== length)
    throw new ParseError(
      "model.encrypted.header",
      field,
      `must be ${length} bytes, not ${bytes.length}.`,
    );
}

/** Serializes a header. Throws a ParseError (codes as in parseEncryptedModelHeader) for a header no parser would accept. */
export function encodeEncryptedModelHeader(header: EncryptedModelHeader): Uint8Array {
  const sizes = problemInSizes(header.segmentSize, header.plaintextLength);
  if (sizes !== undefined)
    throw new ParseError(`model.encrypted.${sizes[0]}`, sizes[0] as string, sizes[1]);
  const keyIdIssue = modelKeyIdProblem(header.keyId);
  if (keyIdIssue !== undefined) throw new ParseError("model.encrypted.key-id", "keyId", keyIdIssue);
  exact(header.plaintextSha256, ENC_DIGEST_BYTES, "plaintextSha256");
  exact(header.salt, ENC_SALT_BYTES, "salt");
  exact(header.noncePrefix, ENC_NONCE_PREFIX_BYTES, "noncePrefix");
  exact(header.keyCommitment, ENC_COMMITMENT_BYTES, "keyCommitment");
  const keyId = utf8(header.keyId);
  const out = new Uint8Array(ENC_HEADER_FIXED_BYTES + keyId.length);
  const view = new DataView(out.buffer);
  out.set(ENCRYPTED_MODEL_MAGIC, 0);
  out[OFFSET.version] = ENCRYPTED_MODEL_VERSION;
  out[OFFSET.algorithm] = ENCRYPTED_MODEL_ALGORITHM;
  view.setUint32(OFFSET.segmentSize, header.segmentSize);
  view.setBigUint64(OFFSET.plaintextLength, BigInt(header.plaintextLength));
  out.set(header.plaintextSha256, OFFSET.plaintextSha256);
  out.set(header.salt, OFFSET.salt);
  out.set(header.noncePrefix, OFFSET.noncePrefix);
  out.set(header.keyCommitment, OFFSET.keyCommitment);
  out[OFFSET.keyIdLength] = keyId.length;
  out.set(keyId, OFFSET.keyId);
  return out;
}

export interface ParsedEncryptedModelHeader {
  readonly header: EncryptedModelHeader;
  /** The exact header bytes: the AAD of every segment. */
  readonly bytes: Uint8Array;
}

/**
 * Parses the header at the start of `bytes` (which may go on into the segments). Total: any
 * input parses or throws a ParseError with a `model.encrypted.*` code, the field and the offset.
 * Nothing here is authenticated yet: the first segment's tag is what vouches for the header.
 */
export function parseEncryptedModelHeader(bytes: Uint8Array): ParsedEncryptedModelHeader {
  const need = (length: number, field: string) => {
    if (bytes.length < length)
      throw new ParseError(
        "model.encrypted.truncated",
        field,
        `the file ends after ${bytes.length} bytes, inside the header.`,
        bytes.length,
      );
  };
  need(ENCRYPTED_MODEL_MAGIC.length, "magic");
  for (let i = 0; i < ENCRYPTED_MODEL_MAGIC.length; i++) {
    if (bytes[i] !== ENCRYPTED_MODEL_MAGIC[i])
      throw new ParseError(
        "model.encrypted.magic",
        "magic",
        'this is not a Cloister encrypted model file (no "CLOISTER-ENC" at the start).',
        0,
      );
  }
  need(ENC_HEADER_FIXED_BYTES, "header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = bytes[OFFSET.version] as number;
  if (version !== ENCRYPTED_MODEL_VERSION)
    throw new ParseError(
      "model.encrypted.version",
      "version",
      `format version ${version} is not supported (this build reads version ${ENCRYPTED_MODEL_VERSION}).`,
      OFFSET.version,
    );
  const algorithm = bytes[OFFSET.algorithm] as number;
  if (algorithm !== ENCRYPTED_MODEL_ALGORITHM)
    throw new ParseError(
      "model.encrypted.algorithm",
      "algorithm",
      `algorithm ${algorithm} is not supported (only ${ENCRYPTED_MODEL_ALGORITHM}, AES-256-GCM).`,
      OFFSET.algorithm,
    );
  const segmentSize = view.getUint32(OFFSET.segmentSize);
  const length = view.getBigUint64(OFFSET.plaintextLength);
  const plaintextLength = length > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(length);
  const sizes = problemInSizes(segmentSize, plaintextLength);
  if (sizes !== undefined)
    throw new ParseError(
      `model.encrypted.${sizes[0]}`,
      sizes[0] === "length" ? "plaintextLength" : "segmentSize",
      sizes[1],
      sizes[0] === "length" ? OFFSET.plaintextLength : OFFSET.segmentSize,
    );
  const keyIdLength = bytes[OFFSET.keyIdLength] as number;
  need(ENC_HEADER_FIXED_BYTES + keyIdLength, "keyId");
  let keyId: string;
  try {
    keyId = fromUtf8(bytes.subarray(OFFSET.keyId, OFFSET.keyId + keyIdLength));
  } catch {
    throw new ParseError("model.encrypted.key-id", "keyId", "is not valid UTF-8.", OFFSET.keyId);
  }
  const keyIdIssue = modelKeyIdProblem(keyId);
  if (keyIdIssue !== undefined)
    throw new ParseError("model.encrypted.key-id", "keyId", keyIdIssue, OFFSET.keyIdLength);
  const field = (offset: number, length: number) => bytes.slice(offset, offset + length);
  return {
    header: {
      segmentSize,
      plaintextLength,
      plaintextSha256: field(OFFSET.plaintextSha256, ENC_DIGEST_BYTES),
      salt: field(OFFSET.salt, ENC_SALT_BYTES),
      noncePrefix: field(OFFSET.noncePrefix, ENC_NONCE_PREFIX_BYTES),
      keyCommitment: field(OFFSET.keyCommitment, ENC_COMMITMENT_BYTES),
      keyId,
    },
    bytes: bytes.slice(0, ENC_HEADER_FIXED_BYTES + keyIdLength),
  };
}
