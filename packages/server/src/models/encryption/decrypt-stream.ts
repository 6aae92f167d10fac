import { createHash, timingSafeEqual } from "node:crypto";
import { open } from "node:fs/promises";
import {
  CloisterError,
  deriveModelFileKey,
  ENC_HEADER_FIXED_BYTES,
  ENC_TAG_BYTES,
  type EncryptedModelErrorCode,
  type EncryptedModelHeader,
  encSegmentCount,
  encSegmentPlaintextBytes,
  type ParsedEncryptedModelHeader,
  parseEncryptedModelHeader,
} from "@cloister/core";
import { type ByteSource, fileByteSource, iterableByteSource } from "./byte-source.js";
import { ioError } from "./io-error.js";
import type { ModelKeyring } from "./model-key.js";
import { openSegment } from "./segment-cipher.js";

const refuse = (code: EncryptedModelErrorCode, message: string) => new CloisterError(code, message);

/** Reads and parses the header (throws its ParseError); consumes exactly the header's bytes. */
export async function readHeader(source: ByteSource): Promise<ParsedEncryptedModelHeader> {
  // A copy: the source may reuse the piece's memory on the next read.
  const fixed = Buffer.from(await source.read(ENC_HEADER_FIXED_BYTES));
  if (fixed.length < ENC_HEADER_FIXED_BYTES) return parseEncryptedModelHeader(fixed);
  const keyId = await source.read(fixed[ENC_HEADER_FIXED_BYTES - 1] as number);
  return parseEncryptedModelHeader(Buffer.concat([fixed, keyId]));
}

/**
 * Reads only the header of an encrypted model file, to learn its key ID, length and plaintext
 * digest (e.g. to match a signed manifest) before asking for the key. Unauthenticated until the
 * file is decrypted.
 */
export async function readEncryptedModelHeader(path: string): Promise<EncryptedModelHeader> {
  const handle = await open(path, "r").catch((error: unknown) => {
    throw ioError("read", path, error);
  });
  try {
    return (await readHeader(fileByteSource(handle))).header;
  } finally {
    await handle.close();
  }
}

/**
 * Decrypts an encrypted model as a stream of plaintext segments, from a file path or any async
 * iterable of ciphertext bytes. Memory stays bounded by one segment.
 *
 * Every chunk yielded has been authenticated by its segment's tag. Truncation, reordering and
 * tampering are refused with a typed CloisterError (`model.encrypted.*`) as they are met, so
 * earlier chunks may already have been yielded: act on the plaintext (load it, serve it) only
 * once the iteration has ended without an error. The last chunk is held back until the final
 * segment verified, nothing follows it and the plaintext's SHA-256 equals the header's, so a
 * caller that has received the last chunk has a whole, verified model.
 */
export async function* openEncryptedModel(
  source: string | AsyncIterable<Uint8Array>,
  keyring: ModelKeyring,
): AsyncGenerator<Uint8Array, void, undefined> {
  if (typeof source !== "string") {
    yield* decryptSegments(iterableByteSource(source), keyring);
    return;
  }
  const handle = await open(source, "r").catch((error: unknown) => {
    throw ioError("read", source, error);
  });
  try {
    yield* decryptSegments(fileByteSource(handle), keyring);
  } finally {
    await handle.close();
  }
}

async function* decryptSegments(
  source: ByteSource,
  keyring: ModelKeyring,
): AsyncGenerator<Uint8Array, void, undefined> {
  const { header, bytes: headerBytes } = await readHeader(source);
  const key = keyring.get(header.keyId);
  if (key === undefined)
    throw refuse(
      "model.encrypted.unknown-key",
      `The model is encrypted to key "${header.keyId}", which is not among the keys given.`,
    );
  const fileKey = deriveModelFileKey(key.bytes, header.salt, header.keyId);
  if (!timingSafeEqual(fileKey.commitment, header.keyCommitment))
    throw refuse(
      "model.encrypted.wrong-key",
      `The key given as "${header.keyId}" does not match the file's key commitment: it is not the key the model was encrypted with (or the header's salt or commitment was altered).`,
    );
  const count = encSegmentCount(header.plaintextLength, header.segmentSize);
  const hash = createHash("sha256");
  for (let index = 0; index < count; index++) {
    const last = index === count - 1;
    const expected = encSegmentPlaintextBytes(header, index) + ENC_TAG_BYTES;
    const sealed = await source.read(expected);
    if (sealed.length < expected)
      throw refuse(
        "model.encrypted.truncated",
        `The encrypted model ends inside segment ${index + 1} of ${count}.`,
      );
    const plaintext = openSegment(
      fileKey.key,
      headerBytes,
      header.noncePrefix,
      index,
      last,
      sealed,
    );
    if (plaintext === undefined)
      throw refuse(
        "model.encrypted.authentication",
        `Segment ${index + 1} of ${count} does not authenticate: the file was altered, reordered or mixed with another.`,
      );
    hash.update(plaintext);
    if (last) {
      if ((await source.read(1)).length !== 0)
        throw refuse("model.encrypted.trailing-data", "Bytes follow the final segment.");
      if (!timingSafeEqual(hash.digest(), header.plaintextSha256))
        throw refuse(
          "model.encrypted.digest",
          "The decrypted model's SHA-256 differs from the one in its header.",
        );
    }
    yield plaintext;
  }
}
