import { availableParallelism } from "node:os";
import { CloisterError } from "@cloister/core";
import { abortedError } from "./aborted.js";
import { DigestCache } from "./digest-cache.js";
import { hashInPool } from "./hash-pool.js";
import { type ListModelFilesOptions, listModelFiles, type ModelFile } from "./list-files.js";

/** Below this many bytes to read, one thread hashes all: a worker costs ~50 ms to start. */
const MIN_BYTES_FOR_WORKERS = 64 * 1024 * 1024;

export interface HashProgress {
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly filesDone: number;
  readonly filesTotal: number;
}

export interface HashModelOptions extends ListModelFilesOptions {
  /** A loaded cache, or false to read every byte; default: DigestCache.open() at its default path. */
  readonly cache?: DigestCache | false;
  /** Threads hashing files at once (default os.availableParallelism()); one file is hashed on this thread. */
  readonly workers?: number;
  /** Called as bytes are hashed (or found in the cache); the last call has done = total. */
  readonly onProgress?: (progress: HashProgress) => void;
  readonly signal?: AbortSignal;
}

export interface HashedFile {
  /** The resource name: POSIX path relative to the root, or "." for a single-file model. */
  readonly name: string;
  /** Lower-case hex. */
  readonly sha256: string;
  readonly size: number;
}

export interface HashModelResult {
  /** In model_signing's resource order. */
  readonly files: HashedFile[];
  /** Total size of the files. */
  readonly bytes: number;
  /** How many digests came from the cache, unread. */
  readonly cached: number;
}

function workerCount(workers: number | undefined): number {
  const count = workers ?? availableParallelism();
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new CloisterError(
      "model.hash.workers",
      `The worker count must be a whole number of at least 1, not ${count}.`,
    );
  }
  return count;
}

/**
 * The model_signing "files" serialization of the model at `root`: one SHA-256 per file, named
 * and ordered as its manifest names and orders them (see listModelFiles). Files are streamed
 * through fixed buffers: one file on this thread, reads overlapped with hashing; several on up
 * to `workers` worker threads in parallel (see hash-pool.ts). Digests of unchanged files come
 * from the cache without reading them.
 */
export async function hashModel(
  root: string,
  options: HashModelOptions = {},
): Promise<HashModelResult> {
  const { signal, onProgress } = options;
  const workers = workerCount(options.workers);
  if (signal?.aborted) throw abortedError();
  const files = await listModelFiles(root, options);
  const cache = options.cache === false ? undefined : (options.cache ?? (await DigestCache.open()));

  const bytesTotal = files.reduce((sum, file) => sum + file.size, 0);
  const filesTotal = files.length;
  let bytesDone = 0;
  let filesDone = 0;
  const report = () => onProgress?.({ bytesDone, bytesTotal, filesDone, filesTotal });
  const digests = new Map<ModelFile, string>();

  const toHash: ModelFile[] = [];
  for (const file of files) {
    const known = cache?.get(file);
    if (known === undefined) {
      toHash.push(file);
    } else {
      digests.set(file, known);
      bytesDone += file.size;
      filesDone++;
    }
  }
  const cached = digests.size;
  report();

  // Largest first, so the last file to start is a short one and no thread idles long.
  toHash.sort((a, b) => b.size - a.size);
  try {
    await hashInPool(toHash, {
      threads: workers,
      minBytesForWorkers: MIN_BYTES_FOR_WORKERS,
      onBytes: (bytes) => {
        bytesDone += bytes;
        report();
      },
      onDigest: (index, sha256) => {
        const file = toHash[index] as ModelFile;
        digests.set(file, sha256);
        cache?.set(file, sha256);
        filesDone++;
        report();
      },
      signal,
    });
  } finally {
    // Digests already computed are kept even when the run fails or is cancelled.
    await cache?.save();
  }
  return {
    files: files.map((file) => ({
      name: file.name,
      sha256: digests.get(file) as string,
      size: file.size,
    })),
    bytes: bytesTotal,
    cached,
  };
}
