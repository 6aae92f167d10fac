import { createHash } from "node:crypto";
import {
  type ChunkedResponseSealer,
  CloisterError,
  decapsulateChunkedRequest,
  decapsulateRequest,
  decodeRequest,
  encodeResponse,
  type GatewayKey,
  MEDIA_TYPES,
  OHTTP_PATH,
  PROBLEMS,
  type Problem,
  RECEIPT_FIELD,
  type ReplayCache,
  ResponseStreamEncoder,
} from "@cloister/core";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ReceiptSigner } from "../audit/receipt-signer.js";
import type { InnerHandler, InnerRequest, InnerResponse } from "./inner.js";
import { sendProblem } from "./problem.js";

export interface GatewayOptions {
  readonly keys: readonly GatewayKey[];
  readonly replay: ReplayCache;
  readonly handler: InnerHandler;
  readonly receipts: ReceiptSigner;
  /** Largest encapsulated request accepted, in bytes. */
  readonly bodyLimit: number;
}

const ENCAPSULATED = [MEDIA_TYPES.request, MEDIA_TYPES.chunkedRequest];

/**
 * POST /v1/ohttp: the Oblivious HTTP gateway (RFC 9458, and chunked OHTTP for streams).
 * Decapsulate -> replay check -> inner route -> seal every piece of the response, with a
 * signed receipt in the Binary HTTP trailer. Relays and the operator see only ciphertext.
 */
export function registerGateway(app: FastifyInstance, options: GatewayOptions): void {
  app.register(async (scope) => {
    // Scoped to this route: encapsulated bodies arrive as raw bytes, anything else is refused below.
    scope.addContentTypeParser(
      ENCAPSULATED,
      { parseAs: "buffer", bodyLimit: options.bodyLimit },
      (_request, body, done) => done(null, body),
    );
    scope.setErrorHandler((error: { statusCode?: number }, _request, reply) => {
      if (error.statusCode === 415) return sendProblem(reply, notEncapsulated());
      if (error.statusCode === 413) {
        return sendProblem(reply, {
          type: PROBLEMS.notEncapsulated,
          title: "Encapsulated request too large",
          status: 413,
        });
      }
      throw error;
    });
    scope.post(OHTTP_PATH, (request, reply) => handle(request, reply, options));
  });
}

function notEncapsulated(): Problem {
  return {
    type: PROBLEMS.notEncapsulated,
    title: "Not an encapsulated request",
    status: 415,
    detail: `${OHTTP_PATH} accepts only ${ENCAPSULATED.join(" or ")} bodies; plaintext requests are refused.`,
  };
}

async function handle(
  request: FastifyRequest,
  reply: FastifyReply,
  options: GatewayOptions,
): Promise<unknown> {
  const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  const body = request.body;
  if (
    !(body instanceof Uint8Array) ||
    !ENCAPSULATED.includes(type as (typeof ENCAPSULATED)[number])
  ) {
    return sendProblem(reply, notEncapsulated());
  }
  try {
    if (type === MEDIA_TYPES.chunkedRequest) {
      const opened = await decapsulateChunkedRequest(options.keys, body);
      const exchange = openInner(opened.request, opened.enc, reply, options);
      return await respondChunked(exchange, await opened.responseSealer(), request, reply, options);
    }
    const opened = await decapsulateRequest(options.keys, body);
    const exchange = openInner(opened.request, opened.enc, reply, options);
    return await respondWhole(exchange, opened.sealResponse, reply, options);
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
    return sendProblem(reply, problemOf(error));
  }
}

interface Exchange {
  readonly inner: InnerRequest;
  /** "sha256:<hex>" of the request bytes as encapsulated, for the receipt. */
  readonly requestDigest: string;
}

/** Binary HTTP -> InnerRequest, after the replay check. Throws CloisterError on a bad or replayed request. */
function openInner(
  message: Uint8Array,
  enc: Uint8Array,
  reply: FastifyReply,
  options: GatewayOptions,
): Exchange {
  const decoded = decodeRequest(message);
  const date = decoded.headers.find(([name]) => name === "date")?.[1];
  options.replay.check(enc, new Date(date ?? Number.NaN), new Date());
  const abort = new AbortController();
  // The caller going away (socket closed before the response finished) stops generation.
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished)
      abort.abort(new CloisterError("request.aborted", "The caller disconnected."));
  });
  return {
    inner: {
      method: decoded.method,
      path: decoded.path,
      headers: decoded.headers,
      body: decoded.content,
      signal: abort.signal,
    },
    requestDigest: digestOf(message),
  };
}

async function respondWhole(
  exchange: Exchange,
  seal: (response: Uint8Array) => Promise<Uint8Array>,
  reply: FastifyReply,
  options: GatewayOptions,
): Promise<FastifyReply> {
  const response = await options.handler(exchange.inner);
  const content = await collect(response.body);
  const receipt = options.receipts.sign({
    model: response.model,
    request: exchange.requestDigest,
    response: digestOf(content),
    status: response.status,
  });
  const sealed = await seal(
    encodeResponse({
      status: response.status,
      headers: response.headers,
      content,
      trailers: [[RECEIPT_FIELD, receipt]],
    }),
  );
  return reply
    .code(200)
    .type(MEDIA_TYPES.response)
    .send(Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength));
}

/** Each piece the route produces (an SSE event) becomes one sealed chunk, written at once. */
async function respondChunked(
  exchange: Exchange,
  sealer: ChunkedResponseSealer,
  request: FastifyRequest,
  reply: FastifyReply,
  options: GatewayOptions,
): Promise<FastifyReply> {
  const response = await options.handler(exchange.inner);
  const signal = exchange.inner.signal;
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { "content-type": MEDIA_TYPES.chunkedResponse, "cache-control": "no-store" });
  raw.write(sealer.header);
  const encoder = new ResponseStreamEncoder();
  const hash = createHash("sha256");
  try {
    raw.write(await sealer.seal(encoder.head(response.status, response.headers)));
    for await (const piece of pieces(response)) {
      if (signal.aborted) break;
      hash.update(piece);
      raw.write(await sealer.seal(encoder.content(piece)));
    }
    if (signal.aborted) return reply;
    const receipt = options.receipts.sign({
      model: response.model,
      request: exchange.requestDigest,
      response: `sha256:${hash.digest("hex")}`,
      status: response.status,
    });
    raw.end(await sealer.sealFinal(encoder.end([[RECEIPT_FIELD, receipt]])));
  } catch (error) {
    request.log.error(
      { code: error instanceof CloisterError ? error.code : "internal" },
      "streamed response failed",
    );
    raw.destroy();
  }
  return reply;
}

async function* pieces(response: InnerResponse): AsyncIterable<Uint8Array> {
  if (response.body instanceof Uint8Array) yield response.body;
  else yield* response.body;
}

async function collect(body: InnerResponse["body"]): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body;
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  return Buffer.concat(parts);
}

function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Refusals said in the clear. Decryption failures reveal nothing; replays are the sender's own bytes. */
function problemOf(error: CloisterError): Problem {
  switch (error.code) {
    case "ohttp.unknown_key":
      return {
        type: PROBLEMS.unknownKey,
        title: "Unknown key",
        status: 400,
        detail: "The request names a key this gateway does not hold; fetch the attestation again.",
      };
    case "ohttp.decrypt":
      return {
        type: PROBLEMS.decryptFailed,
        title: "Decryption failed",
        status: 400,
        detail: error.message,
      };
    case "ohttp.replay":
      return {
        type: PROBLEMS.replayed,
        title: "Replayed request",
        status: 400,
        detail: error.message,
      };
    case "ohttp.stale":
      return {
        type: PROBLEMS.staleDate,
        title: "Request date out of window",
        status: 400,
        detail: error.message,
      };
    default:
      return {
        type: PROBLEMS.notEncapsulated,
        title: "Malformed encapsulated request",
        status: 400,
        detail: error.message,
      };
  }
}
