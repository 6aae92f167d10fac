import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ENC_TAG_BYTES,
  encSegmentCount,
  encSegmentPlaintextBytes,
  parseEncryptedModelHeader,
} from "@cloister/core";
import {
  encryptModelStream,
  type ModelKey,
  type ModelKeyring,
  openEncryptedModel,
} from "@cloister/server";

export const SEGMENT = 4096;

export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

export const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest();

/** Encrypts in memory; `digest` overrides the header's plaintext SHA-256. */
export function encryptBytes(
  plaintext: Uint8Array,
  key: ModelKey,
  segmentSize = SEGMENT,
  digest: Uint8Array = sha256(plaintext),
): Promise<Buffer> {
  return collect(
    encryptModelStream(once(plaintext), {
      key,
      segmentSize,
      plaintextLength: plaintext.length,
      plaintextSha256: digest,
    }),
  );
}

export function decryptBytes(encrypted: Uint8Array, keys: ModelKeyring): Promise<Buffer> {
  return collect(openEncryptedModel(once(encrypted), keys));
}

/** Splits an encrypted file into its header and its sealed segments. */
export function split(encrypted: Buffer): { header: Buffer; segments: Buffer[] } {
  const { header, bytes } = parseEncryptedModelHeader(encrypted);
  const segments: Buffer[] = [];
  let offset = bytes.length;
  for (let i = 0; i < encSegmentCount(header.plaintextLength, header.segmentSize); i++) {
    const length = encSegmentPlaintextBytes(header, i) + ENC_TAG_BYTES;
    segments.push(encrypted.subarray(offset, offset + length));
    offset += length;
  }
  return { header: encrypted.subarray(0, bytes.length), segments };
}

export async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "cloister-model-enc-"));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const listing = async (dir: string) => (await readdir(dir)).sort();
