import { Worker } from "node:worker_threads";
import { CloisterError } from "@cloister/core";
import { abortedError, asCloisterError } from "./aborted.js";
import { hashFile, readBuffers } from "./hash-file.js";
import type { PoolReply, PoolRequest } from "./pool-messages.js";

export interface PoolJob {
  readonly path: string;
  readonly size: number;
}

export interface PoolOptions {
  /** Hashing threads at most: this one alone, or this many workers for several files. */
  readonly threads: number;
  /** Start no worker when fewer bytes than this are to be hashed: one costs ~50 ms to start. */
  readonly minBytesForWorkers: number;
  /** Bytes hashed, in batches, from any thread. */
  readonly onBytes: (bytes: number) => void;
  /** One file's digest, as soon as it is known. */
  readonly onDigest: (index: number, sha256: string) => void;
  readonly signal?: AbortSignal;
}

const FROM_SOURCE = import.meta.url.endsWith(".ts");
const WORKER_URL = new URL(FROM_SOURCE ? "./hash-worker.ts" : "./hash-worker.js", import.meta.url);

/**
 * Under `--conditions=source` (tests, benchmarks) the worker is TypeScript, and the `--import tsx`
 * a worker inherits does not reach its loader in Node 20: the bootstrap registers tsx first.
 */
function startWorker(): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL);
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const entry = JSON.stringify(WORKER_URL.href);
  return new Worker(`import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); });`, {
    eval: true,
  });
}

/** One worker thread hashing one file at a time; any failure of the thread rejects that file. */
class HashThread {
  readonly #worker = startWorker();
  #pending:
    | { resolve: (sha256: string) => void; reject: (error: unknown) => void; id: number }
    | undefined;
  #nextId = 0;

  constructor(onBytes: (bytes: number) => void) {
    this.#worker.on("message", (reply: PoolReply) => {
      const pending = this.#pending;
      if (pending === undefined || reply.id !== pending.id) return;
      if (reply.kind === "error") {
        this.#pending = undefined;
        pending.reject(new CloisterError(reply.code, reply.message));
        return;
      }
      if (reply.bytes > 0) onBytes(reply.bytes);
      if (reply.kind === "done") {
        this.#pending = undefined;
        pending.resolve(reply.sha256);
      }
    });
    const died = (error: CloisterError) => {
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.reject(error);
    };
    this.#worker.on("error", (cause) =>
      died(new CloisterError("model.hash.worker", "A hashing worker thread failed.", { cause })),
    );
    this.#worker.on("exit", (code) =>
      died(new CloisterError("model.hash.worker", `A hashing worker thread exited (${code}).`)),
    );
  }

  hash(job: PoolJob): Promise<string> {
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      this.#pending = { resolve, reject, id };
      const request: PoolRequest = { id, path: job.path, size: job.size };
      this.#worker.postMessage(request);
    });
  }

  terminate(): Promise<number> {
    return this.#worker.terminate();
  }
}

/**
 * Hashes `jobs` on this thread alone, or, for several files worth the start-up of threads, on
 * up to `threads` worker threads, each taking the next job from one shared queue in the order
 * given (largest first balances the load). When this settles, every worker has been told to
 * terminate: on success, on the first error and on abort (which also stops a file mid-read).
 */
export async function hashInPool(jobs: readonly PoolJob[], options: PoolOptions): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) throw abortedError();
  let next = 0;
  const take = (): number | undefined => (next < jobs.length ? next++ : undefined);
  const stop = new AbortController();
  const bytes = jobs.reduce((sum, job) => sum + job.size, 0);
  // One file (or little to hash): this thread, its reads overlapped on the libuv pool, which
  // makes one file faster than one core's read-then-hash. Several files on several cores: one
  // worker per core, each reading and hashing a file at a time, as many openssl processes would.
  const parallel = bytes >= options.minBytesForWorkers && options.threads > 1 && jobs.length > 1;
  const threads = parallel
    ? Array.from(
        { length: Math.min(options.threads, jobs.length) },
        () => new HashThread(options.onBytes),
      )
    : [];

  const mainLane = async () => {
    const buffers = readBuffers();
    for (let i = take(); i !== undefined && !stop.signal.aborted; i = take()) {
      const job = jobs[i] as PoolJob;
      const sha256 = await hashFile(job.path, job.size, buffers, {
        onBytes: options.onBytes,
        signal: stop.signal,
      });
      options.onDigest(i, sha256);
    }
  };
  const workerLane = async (thread: HashThread) => {
    for (let i = take(); i !== undefined && !stop.signal.aborted; i = take()) {
      options.onDigest(i, await thread.hash(jobs[i] as PoolJob));
    }
  };
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedError());
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const lanes = parallel ? threads.map(workerLane) : [mainLane()];
    await Promise.race([aborted, Promise.all(lanes)]);
  } catch (error) {
    throw asCloisterError(error);
  } finally {
    stop.abort();
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    aborted.catch(() => undefined);
    await Promise.all(threads.map((thread) => thread.terminate()));
  }
}
