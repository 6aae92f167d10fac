import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import {
  CloisterError,
  deriveModelFileKey,
  ENC_DEFAULT_SEGMENT_SIZE,
  ENC_NONCE_PREFIX_BYTES,
  ENC_SALT_BYTES,
  type EncryptedModelHeader,
  encodeEncryptedModelHeader,
  encryptedFileBytes,
  encSegmentCount,
  encSegmentPlaintextBytes,
  toHex,
} from "@cloister/core";
import { type ByteSource, fileByteSource, iterableByteSource } from "./byte-source.js";
import { ioError } from "./io-error.js";
import type { ModelKey } from "./model-key.js";
import { sealSegment } from "./segment-cipher.js";
import { writeAtomically } from "./write-atomically.js";

export interface EncryptOptions {
  readonly key: ModelKey;
  /** Plaintext bytes per segment (default 1 MiB; 4 KiB to 64 MiB). */
  readonly segmentSize?: number;
}

export interface StreamEncryptOptions extends EncryptOptions {
  /** The header carries both, so a stream must know them before its first byte is sealed. */
  readonly plaintextLength: number;
  readonly plaintextSha256: Uint8Array;
}

/** What was encrypted: enough to list it, match it with a manifest, or decrypt it. */
export interface EncryptedModelInfo {
  readonly keyId: string;
  readonly segmentSize: number;
  readonly plaintextLength: number;
  /** Lower-case hex. */
  readonly plaintextSha256: string;
  readonly encryptedLength: number;
}

function newHeader(options: StreamEncryptOptions): {
  header: EncryptedModelHeader;
  fileKey: Uint8Array;
} {
  const salt = randomBytes(ENC_SALT_BYTES);
  const derived = deriveModelFileKey(options.key.bytes, salt, options.key.id);
  const header: EncryptedModelHeader = {
    segmentSize: options.segmentSize ?? ENC_DEFAULT_SEGMENT_SIZE,
    plaintextLength: options.plaintextLength,
    plaintextSha256: options.plaintextSha256,
    salt,
    noncePrefix: randomBytes(ENC_NONCE_PREFIX_BYTES),
    keyCommitment: derived.commitment,
    keyId: options.key.id,
  };
  encodeEncryptedModelHeader(header); // refuses a bad segment size or length before any work
  return { header, fileKey: derived.key };
}

function describe(header: EncryptedModelHeader): EncryptedModelInfo {
  return {
    keyId: header.keyId,
    segmentSize: header.segmentSize,
    plaintextLength: header.plaintextLength,
    plaintextSha256: toHex(header.plaintextSha256),
    encryptedLength: encryptedFileBytes(header),
  };
}

async function* sealAll(
  source: ByteSource,
  header: EncryptedModelHeader,
  fileKey: Uint8Array,
  onSegment?: (plaintextBytes: number) => void,
): AsyncGenerator<Uint8Array, void, undefined> {
  const headerBytes = encodeEncryptedModelHeader(header);
  yield headerBytes;
  const count = encSegmentCount(header.plaintextLength, header.segmentSize);
  for (let index = 0; index < count; index++) {
    const length = encSegmentPlaintextBytes(header, index);
    const plaintext = await source.read(length);
    if (plaintext.length !== length) throw changed();
    const last = index === count - 1;
    const sealed = sealSegment(fileKey, headerBytes, header.noncePrefix, index, last, plaintext);
    if (last && (await source.read(1)).length !== 0) throw changed();
    yield* sealed;
    onSegment?.(length);
  }
}

const changed = () =>
  new CloisterError(
    "model.encrypted.source-changed",
    "The plaintext's length changed while it was being encrypted.",
  );

/**
 * Encrypts a plaintext stream whose length and SHA-256 are known in advance: yields the header,
 * then each sealed segment. Refuses a source longer or shorter than `plaintextLength`; a wrong
 * `plaintextSha256` is not detected here but refused by every decryptor.
 */
export async function* encryptModelStream(
  source: AsyncIterable<Uint8Array>,
  options: StreamEncryptOptions,
): AsyncGenerator<Uint8Array, void, undefined> {
  const { header, fileKey } = newHeader(options);
  yield* sealAll(iterableByteSource(source), header, fileKey);
}

async function hashFile(path: string): Promise<Uint8Array> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest();
}

/**
 * Encrypts the file `source` into `destination` (see docs/model-encryption-format.md). Two
 * passes: the SHA-256 first (the header carries it), then the segments. The output is written
 * to a temporary file beside `destination` and renamed into place only when complete; a source
 * that changes size or modification time meanwhile is refused.
 */
export async function encryptModelFile(
  source: string,
  destination: string,
  options: EncryptOptions & { readonly onProgress?: (plaintextBytes: number) => void },
): Promise<EncryptedModelInfo> {
  try {
    const before = await stat(source);
    if (!before.isFile())
      throw new CloisterError("model.encrypted.not-regular", `${source} is not a regular file.`);
    const { header, fileKey } = newHeader({
      ...options,
      plaintextLength: before.size,
      plaintextSha256: await hashFile(source),
    });
    const input = await open(source, "r");
    try {
      await writeAtomically(
        destination,
        sealAll(fileByteSource(input), header, fileKey, options.onProgress),
      );
    } finally {
      await input.close();
    }
    const after = await stat(source);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) throw changed();
    return describe(header);
  } catch (error) {
    throw error instanceof CloisterError ? error : ioError("encrypt", source, error);
  }
}
