import { concat } from "../bytes.js";
import { FINAL_AAD, frameChunks, splitChunks } from "./chunk-framing.js";
import {
  type ChunkedResponseSealer,
  createResponseSealer,
  openResponseStream,
} from "./chunked-response.js";
import type { Suite } from "./constants.js";
import { OhttpError } from "./errors.js";
import type { GatewayKey } from "./gateway-key.js";
import {
  CHUNKED_REQUEST_LABEL,
  exportSecret,
  NO_AAD,
  seal,
  setupRecipient,
  setupSender,
} from "./hpke-setup.js";
import type { KeyConfig } from "./key-config.js";
import { readVarint, varintSize } from "./varint.js";

export type { ChunkedResponseSealer } from "./chunked-response.js";

/** The client's side of one chunked OHTTP exchange (draft-ietf-ohai-chunked-ohttp-08). */
export interface ClientChunkedRequest {
  /** The message/ohttp-chunked-req body to send. */
  readonly encapsulated: Uint8Array;
  /**
   * Decrypts the message/ohttp-chunked-res body as it streams in: each chunk is passed on as
   * soon as it authenticates. Errors with ohttp.truncated if the body ends before the final
   * chunk, and ohttp.decrypt on a chunk that does not authenticate.
   */
  openResponse(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array>;
  exportSecret(exporterContext: Uint8Array, length: number): Promise<Uint8Array>;
}

/** The gateway's side of one chunked OHTTP exchange, after the whole request authenticated. */
export interface GatewayChunkedRequest {
  /** All chunks concatenated; only returned once the final chunk authenticated. */
  readonly request: Uint8Array;
  readonly keyId: number;
  readonly enc: Uint8Array;
  /** Starts the response; `responseNonce` fixes the nonce, for test vectors only. */
  responseSealer(options?: { responseNonce?: Uint8Array }): Promise<ChunkedResponseSealer>;
  exportSecret(exporterContext: Uint8Array, length: number): Promise<Uint8Array>;
}

/**
 * Encapsulates a request in chunks. Given a list, each element becomes a chunk and the last
 * one is the final chunk (pass an empty last element to end with an empty final chunk).
 * Elements over 16 KiB are split; empty elements other than the last are skipped, since a
 * non-final chunk must not be empty.
 */
export async function encapsulateChunkedRequest(
  config: KeyConfig,
  request: Uint8Array | readonly Uint8Array[],
  options: { suite?: Suite; ephemeralPrivateKey?: Uint8Array } = {},
): Promise<ClientChunkedRequest> {
  const { runtime, context, prefix, enc } = await setupSender(
    config,
    CHUNKED_REQUEST_LABEL,
    options,
  );
  const elements = request instanceof Uint8Array ? [request] : request;
  const pieces = elements.flatMap(splitChunks);
  const last = elements[elements.length - 1];
  const final = last === undefined || last.length === 0 ? new Uint8Array(0) : pieces.pop();
  const sealed: Uint8Array[] = [];
  // HPKE numbers chunks by the order of Seal calls, so they must run one after another.
  for (const piece of pieces) sealed.push(await seal(context, piece));
  sealed.push(await seal(context, final as Uint8Array, FINAL_AAD));
  const chunks = frameChunks(sealed, true);
  const encapsulated = new Uint8Array(prefix.length + chunks.length);
  encapsulated.set(prefix);
  encapsulated.set(chunks, prefix.length);
  return {
    encapsulated,
    openResponse: (body) => openResponseStream(runtime, context, enc, body),
    exportSecret: (label, length) => exportSecret(context, label, length),
  };
}

/** Decapsulates a whole chunked request; it is only returned once its final chunk authenticated. */
export async function decapsulateChunkedRequest(
  keys: readonly GatewayKey[],
  encapsulated: Uint8Array,
): Promise<GatewayChunkedRequest> {
  const { runtime, context, keyId, enc, bodyOffset } = await setupRecipient(
    keys,
    encapsulated,
    CHUNKED_REQUEST_LABEL,
  );
  const open = async (sealed: Uint8Array, aad: Uint8Array, index: number) => {
    try {
      return new Uint8Array(await context.open(sealed, aad));
    } catch (cause) {
      throw new OhttpError("ohttp.decrypt", `Request chunk ${index} did not authenticate.`, {
        cause,
      });
    }
  };
  const plaintexts: Uint8Array[] = [];
  let pos = bodyOffset;
  for (let index = 0; ; index++) {
    const length = readVarint(encapsulated, pos);
    if (length === undefined) {
      throw new OhttpError("ohttp.truncated", "The chunked request ended before its final chunk.");
    }
    pos += varintSize(encapsulated[pos] as number);
    if (length === 0) {
      plaintexts.push(await open(encapsulated.subarray(pos), FINAL_AAD, index));
      break;
    }
    if (pos + length > encapsulated.length) {
      throw new OhttpError("ohttp.truncated", `Request chunk ${index} is cut short.`);
    }
    const plaintext = await open(encapsulated.subarray(pos, pos + length), NO_AAD, index);
    if (plaintext.length === 0) {
      throw new OhttpError("ohttp.decrypt", `Non-final request chunk ${index} is empty.`);
    }
    plaintexts.push(plaintext);
    pos += length;
  }
  return {
    request: concat(plaintexts),
    keyId,
    enc,
    responseSealer: (options = {}) =>
      createResponseSealer(runtime, context, enc, options.responseNonce),
    exportSecret: (label, length) => exportSecret(context, label, length),
  };
}
