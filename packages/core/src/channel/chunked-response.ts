import type { EncryptionContext } from "@hpke/core";
import { FINAL_AAD, frameChunks, splitChunks } from "./chunk-framing.js";
import { OhttpError } from "./errors.js";
import { NO_AAD } from "./hpke-setup.js";
import { PendingBytes } from "./pending-bytes.js";
import {
  CHUNKED_RESPONSE_LABEL,
  chunkNonce,
  deriveResponseKey,
  type ResponseKey,
  responseNonce,
} from "./response-key.js";
import type { SuiteRuntime } from "./suites.js";
import { readVarint, varintSize } from "./varint.js";

/**
 * The largest sealed chunk a client buffers. The draft only obliges receivers to take 16 KiB
 * of plaintext; this leaves room for senders that use more while bounding memory.
 */
export const MAX_RECEIVED_CHUNK = 1 << 20;

/** Seals a chunked response (message/ohttp-chunked-res) one chunk at a time. */
export interface ChunkedResponseSealer {
  /** The response nonce: send it first. */
  readonly header: Uint8Array;
  /** Seals a non-final chunk (split when over 16 KiB; nothing when empty). */
  seal(chunk: Uint8Array): Promise<Uint8Array>;
  /** Seals the final chunk, which may be empty; nothing can be sealed after it. */
  sealFinal(chunk?: Uint8Array): Promise<Uint8Array>;
}

export async function createResponseSealer(
  runtime: SuiteRuntime,
  context: EncryptionContext,
  enc: Uint8Array,
  fixedNonce: Uint8Array | undefined,
): Promise<ChunkedResponseSealer> {
  const header = responseNonce(runtime, fixedNonce);
  const key = await deriveResponseKey(runtime, context, CHUNKED_RESPONSE_LABEL, enc, header);
  let counter = 0;
  let finished = false;
  // One seal at a time: chunks must leave in counter order, and the AEAD context imports its
  // key lazily on first use, which overlapping first calls would race on.
  let queue: Promise<unknown> = Promise.resolve();
  const sealPieces = (pieces: Uint8Array[], lastIsFinal: boolean): Promise<Uint8Array> => {
    if (finished) {
      return Promise.reject(
        new OhttpError("ohttp.invalid_state", "The final chunk was already sealed."),
      );
    }
    finished = lastIsFinal;
    const run = async () => {
      const sealed: Uint8Array[] = [];
      for (const [i, piece] of pieces.entries()) {
        const aad = lastIsFinal && i === pieces.length - 1 ? FINAL_AAD : NO_AAD;
        sealed.push(
          new Uint8Array(await key.aead.seal(chunkNonce(key.nonce, counter++), piece, aad)),
        );
      }
      return frameChunks(sealed, lastIsFinal);
    };
    const result = queue.then(run);
    queue = result.catch(() => {});
    return result;
  };
  return {
    header,
    seal: (chunk) => sealPieces(splitChunks(chunk), false),
    sealFinal: (chunk = new Uint8Array(0)) => {
      const pieces = splitChunks(chunk);
      if (pieces.length === 0) pieces.push(chunk);
      return sealPieces(pieces, true);
    },
  };
}

/**
 * Decrypts a chunked response as it arrives. Each chunk is passed on once it authenticates;
 * the stream errors with ohttp.truncated when the body ends before the final chunk, and with
 * ohttp.decrypt when a chunk fails to authenticate or sits in the wrong place.
 */
export function openResponseStream(
  runtime: SuiteRuntime,
  context: EncryptionContext,
  enc: Uint8Array,
  body: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  if (body.locked) {
    throw new OhttpError("ohttp.invalid_argument", "The response body is already being read.");
  }
  const reader = body.getReader();
  const pending = new PendingBytes();
  let key: ResponseKey | undefined;
  let counter = 0;
  let final = false;

  const open = async (sealed: Uint8Array, aad: Uint8Array) => {
    const k = key as ResponseKey;
    try {
      return new Uint8Array(await k.aead.open(chunkNonce(k.nonce, counter++), sealed, aad));
    } catch (cause) {
      throw new OhttpError("ohttp.decrypt", `Response chunk ${counter - 1} did not authenticate.`, {
        cause,
      });
    }
  };

  /** Opens every complete non-final chunk that is buffered. */
  const drain = async (out: Uint8Array[]) => {
    if (key === undefined) {
      if (pending.size < runtime.entropyLength) return;
      const nonce = pending.take(runtime.entropyLength);
      key = await deriveResponseKey(runtime, context, CHUNKED_RESPONSE_LABEL, enc, nonce);
    }
    while (!final && pending.size > 0) {
      const prefix = varintSize(pending.peek(1)[0] as number);
      if (pending.size < prefix) return;
      const length = readVarint(pending.peek(prefix), 0) as number;
      if (length === 0) {
        pending.take(prefix);
        final = true;
        break;
      }
      if (length > MAX_RECEIVED_CHUNK) {
        throw new OhttpError(
          "ohttp.malformed",
          `A response chunk announces ${length} bytes, more than the ${MAX_RECEIVED_CHUNK} accepted.`,
        );
      }
      if (pending.size < prefix + length) return;
      pending.take(prefix);
      const plaintext = await open(pending.take(length), NO_AAD);
      if (plaintext.length === 0) {
        throw new OhttpError("ohttp.decrypt", `Non-final response chunk ${counter - 1} is empty.`);
      }
      out.push(plaintext);
    }
    if (final && pending.size > MAX_RECEIVED_CHUNK) {
      throw new OhttpError(
        "ohttp.malformed",
        `The final response chunk exceeds the ${MAX_RECEIVED_CHUNK} bytes accepted.`,
      );
    }
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const out: Uint8Array[] = [];
        while (out.length === 0) {
          const { done, value } = await read(reader);
          if (done) {
            if (key === undefined || !final) {
              throw new OhttpError(
                "ohttp.truncated",
                "The chunked response ended before its final chunk.",
              );
            }
            const last = await open(pending.take(pending.size), FINAL_AAD);
            if (last.length > 0) controller.enqueue(last);
            controller.close();
            return;
          }
          if (!(value instanceof Uint8Array)) {
            throw new OhttpError("ohttp.invalid_argument", "The response body must yield bytes.");
          }
          pending.push(value);
          await drain(out);
        }
        for (const chunk of out) controller.enqueue(chunk);
      } catch (error) {
        reader.cancel(error).catch(() => {});
        throw error;
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** A body that fails mid-way has, for the reader, ended before its final chunk. */
async function read(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  try {
    return await reader.read();
  } catch (cause) {
    throw new OhttpError("ohttp.truncated", "The chunked response body failed before its end.", {
      cause,
    });
  }
}
