import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";

/**
 * Read size. Measured on a 1 GiB file from the page cache (bench/model-hash): 2 MiB double
 * buffers hash as fast as 8 MiB ones and ~20% faster than 256 KiB ones.
 */
export const READ_BYTES = 2 * 1024 * 1024;

/** The two reusable buffers one hasher needs: memory stays at 2 × READ_BYTES per file in flight. */
export type ReadBuffers = readonly [Buffer, Buffer];

export function readBuffers(): ReadBuffers {
  return [Buffer.allocUnsafe(READ_BYTES), Buffer.allocUnsafe(READ_BYTES)];
}

export interface HashFileOptions {
  /** Called after each chunk with the bytes it added. */
  readonly onBytes?: (bytes: number) => void;
  /** Checked between reads: hashing stops with `model.hash.aborted`. */
  readonly signal?: AbortSignal;
}

/**
 * A failure to hash one file, with the CloisterError code it becomes. This module imports
 * nothing but node:* so that a worker thread starts fast; callers rethrow it as CloisterError.
 */
export class HashFileError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HashFileError";
    this.code = code;
  }
}

/** A file that ends elsewhere than the walker saw changed under us: no digest of mixed content. */
function checkSize(path: string, position: number, size: number): void {
  if (position !== size) {
    throw new HashFileError(
      "model.files.changed",
      `"${path}" changed size while it was hashed (${size} bytes listed).`,
    );
  }
}

export const ABORTED_CODE = "model.hash.aborted";
export const ABORTED_MESSAGE = "Hashing the model was cancelled.";

function readError(error: unknown, path: string): HashFileError {
  if (error instanceof HashFileError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? "unknown";
  return new HashFileError("model.files.unreadable", `Cannot read "${path}" (${code}).`, {
    cause: error,
  });
}

/**
 * SHA-256 of a file, streamed through two fixed buffers: the next read runs on the libuv pool
 * while this thread hashes the previous chunk, which beats both synchronous reads and
 * createReadStream (bench/model-hash). `size` is the size the walker saw; a file that ends
 * elsewhere changed under us and is refused rather than given a digest of mixed content. Fails with HashFileError.
 */
export async function hashFile(
  path: string,
  size: number,
  buffers: ReadBuffers,
  options: HashFileOptions = {},
): Promise<string> {
  const hash = createHash("sha256");
  let handle: FileHandle | undefined;
  let pending: Promise<{ bytesRead: number; buffer: Buffer }> | undefined;
  try {
    handle = await open(path, "r");
    const file = handle;
    const read = (buffer: Buffer, position: number) =>
      file.read(buffer, 0, Math.min(READ_BYTES, size + 1 - position), position);
    let position = 0;
    let current = 0;
    // Asking for one byte past `size` notices a file that grew.
    pending = read(buffers[0], 0);
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) break;
      position += bytesRead;
      if (position > size) break;
      if (options.signal?.aborted) throw new HashFileError(ABORTED_CODE, ABORTED_MESSAGE);
      current ^= 1;
      pending = read(buffers[current as 0 | 1], position);
      hash.update(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
      options.onBytes?.(bytesRead);
    }
    checkSize(path, position, size);
  } catch (error) {
    throw readError(error, path);
  } finally {
    // A read still in flight must settle before its buffer is reused or the file closed.
    await pending?.catch(() => undefined);
    await handle?.close().catch(() => undefined);
  }
  return hash.digest("hex");
}

/**
 * SHA-256 of a file read synchronously into one buffer: for worker threads, which have nothing
 * else to do. With every core hashing its own file, overlapping reads gains nothing and the
 * extra libuv threads only compete for the same cores (bench/model-hash, several files).
 * Same size rule and errors as hashFile.
 */
export function hashFileSync(
  path: string,
  size: number,
  buffer: Buffer,
  onBytes?: (bytes: number) => void,
): string {
  const hash = createHash("sha256");
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    let position = 0;
    for (;;) {
      const bytesRead = readSync(
        fd,
        buffer,
        0,
        Math.min(buffer.length, size + 1 - position),
        position,
      );
      if (bytesRead === 0) break;
      position += bytesRead;
      if (position > size) break;
      hash.update(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
      onBytes?.(bytesRead);
    }
    checkSize(path, position, size);
  } catch (error) {
    throw readError(error, path);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return hash.digest("hex");
}
