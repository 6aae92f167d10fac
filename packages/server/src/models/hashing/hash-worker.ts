/**
 * worker_threads entry of the hash pool: hashes one file at a time as the pool asks, posting
 * byte progress now and then and the digest or a typed error at the end. It imports only node:*
 * and hash-file.ts: each import is paid again by every worker at start.
 */

import { parentPort } from "node:worker_threads";
import { HashFileError, hashFileSync, READ_BYTES } from "./hash-file.js";
import type { PoolReply, PoolRequest } from "./pool-messages.js";

/** Progress is batched: a message per chunk would cost more than the chunk's hashing. */
const PROGRESS_BYTES = 32 * 1024 * 1024;

const port = parentPort;
if (port === null) throw new Error("hash-worker.ts runs only as a worker thread.");
const buffer = Buffer.allocUnsafe(READ_BYTES);
const post = (reply: PoolReply) => port.postMessage(reply);

port.on("message", ({ id, path, size }: PoolRequest) => {
  let unreported = 0;
  try {
    const sha256 = hashFileSync(path, size, buffer, (bytes) => {
      unreported += bytes;
      if (unreported >= PROGRESS_BYTES) {
        post({ id, kind: "progress", bytes: unreported });
        unreported = 0;
      }
    });
    post({ id, kind: "done", sha256, bytes: unreported });
  } catch (error) {
    const typed = error instanceof HashFileError;
    post({
      id,
      kind: "error",
      code: typed ? error.code : "model.hash.worker",
      message: typed ? error.message : `Hashing "${path}" failed unexpectedly.`,
    });
  }
});
