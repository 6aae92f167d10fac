import {
  CloisterError,
  concat,
  decodeResponse,
  encapsulateChunkedRequest,
  encapsulateRequest,
  encodeRequest,
  type Fields,
  type KeyConfig,
  MEDIA_TYPES,
  OHTTP_PATH,
  PROBLEMS,
  type Problem,
  RECEIPT_FIELD,
  type ReceiptBody,
  ReceiptError,
  ResponseStreamDecoder,
  type ResponseStreamEvent,
  type Suite,
  verifyReceipt,
} from "@cloister/core";
import { GatewayError } from "./errors.js";
import { CONNECTION_HEADERS } from "./headers.js";

/** What a sealed request needs from the verified session. */
export interface Channel {
  readonly gateway: URL;
  readonly keyConfig: KeyConfig;
  /** The HPKE suite to seal with (one the key configuration offers); default AES-128-GCM. */
  readonly suite?: Suite;
  /** The attested receipt public key (base64url). */
  readonly receiptKey: string;
  readonly manifestDigest: string;
  readonly fetch: typeof fetch;
  readonly onReceipt?: (receipt: ReceiptBody) => void;
}

/** The gateway cannot open what was sealed to the attested key: the session must verify the workload again. */
export class StaleKeyError extends CloisterError {}

/**
 * One request through Oblivious HTTP: Binary HTTP inside, sealed to the attested key, POSTed
 * to the gateway; the response is opened, its receipt verified, and handed back as a plain
 * Response. Streaming requests (`"stream": true`) use chunked OHTTP so each token chunk is
 * sealed and delivered as soon as it is produced.
 */
export async function sendEncapsulated(
  channel: Channel,
  request: Request,
  body: Uint8Array,
): Promise<Response> {
  const url = new URL(request.url);
  const headers: [string, string][] = [];
  request.headers.forEach((value, name) => {
    if (!CONNECTION_HEADERS.has(name)) headers.push([name, value]);
  });
  // The gateway refuses requests dated outside its window: with its replay cache this stops replays.
  headers.push(["date", new Date().toUTCString()]);
  const message = encodeRequest({
    method: request.method,
    scheme: url.protocol.replace(/:$/, ""),
    authority: url.host,
    path: `${url.pathname}${url.search}`,
    headers,
    content: body,
    trailers: [],
  });
  const receipt = (trailers: Fields, content: Uint8Array) =>
    checkReceipt(channel, trailers, message, content);
  if (wantsStream(headers, body)) {
    const sealed = await encapsulateChunkedRequest(
      channel.keyConfig,
      message,
      suiteOption(channel),
    );
    const response = await post(
      channel,
      sealed.encapsulated,
      MEDIA_TYPES.chunkedRequest,
      MEDIA_TYPES.chunkedResponse,
      request.signal,
    );
    return openStream(sealed.openResponse(response.body as ReadableStream<Uint8Array>), receipt);
  }
  const sealed = await encapsulateRequest(channel.keyConfig, message, suiteOption(channel));
  const response = await post(
    channel,
    sealed.encapsulated,
    MEDIA_TYPES.request,
    MEDIA_TYPES.response,
    request.signal,
  );
  const inner = decodeResponse(
    await sealed.openResponse(new Uint8Array(await response.arrayBuffer())),
  );
  await receipt(inner.trailers, inner.content);
  return toResponse(inner.status, inner.headers, inner.content);
}

/** POSTs an encapsulated request; returns the gateway's response once it is known to be encapsulated too. */
async function post(
  channel: Channel,
  encapsulated: Uint8Array,
  requestType: string,
  responseType: string,
  signal: AbortSignal,
): Promise<Response> {
  let response: Response;
  try {
    response = await channel.fetch(new URL(OHTTP_PATH, channel.gateway), {
      method: "POST",
      headers: { "content-type": requestType },
      body: encapsulated as Uint8Array<ArrayBuffer>,
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new CloisterError(
      "channel.unreachable",
      `Could not reach the gateway at ${channel.gateway.origin}.`,
      { cause: error },
    );
  }
  if (!response.ok) throw await refusal(response);
  if (response.headers.get("content-type") !== responseType || response.body === null) {
    throw new CloisterError(
      "channel.media_type",
      `The gateway answered ${response.headers.get("content-type")}, not ${responseType}.`,
    );
  }
  return response;
}

/** The inner response as a stream: its head first, then content chunks as they are opened. */
async function openStream(
  plaintext: ReadableStream<Uint8Array>,
  receipt: (trailers: Fields, content: Uint8Array) => Promise<void>,
): Promise<Response> {
  const reader = plaintext.getReader();
  const decoder = new ResponseStreamDecoder();
  const pending: ResponseStreamEvent[] = [];
  const next = async (): Promise<ResponseStreamEvent> => {
    while (pending.length === 0) {
      const { value, done } = await reader.read();
      if (done) {
        decoder.finish();
        throw new CloisterError("channel.truncated", "The response ended before its end marker.");
      }
      pending.push(...decoder.push(value));
    }
    return pending.shift() as ResponseStreamEvent;
  };
  const head = await next();
  if (head.type !== "head")
    throw new CloisterError(
      "channel.malformed",
      "The streamed response did not start with its status.",
    );
  const content: Uint8Array[] = [];
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const event = await next();
      if (event.type === "content") {
        content.push(event.data);
        controller.enqueue(event.data);
      } else if (event.type === "end") {
        await receipt(event.trailers, concat(content));
        controller.close();
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return toResponse(head.status, head.headers, body);
}

async function checkReceipt(
  channel: Channel,
  trailers: Fields,
  request: Uint8Array,
  response: Uint8Array,
): Promise<void> {
  const text = trailers.find(([name]) => name === RECEIPT_FIELD)?.[1];
  if (text === undefined)
    throw new ReceiptError("receipt.missing", "The response carries no receipt.");
  const body = await verifyReceipt(text, {
    publicKey: channel.receiptKey,
    manifest: channel.manifestDigest,
    request,
    response,
  });
  channel.onReceipt?.(body);
}

function toResponse(
  status: number,
  headers: Fields,
  body: Uint8Array | ReadableStream<Uint8Array>,
): Response {
  const nullBody = status === 204 || status === 205 || status === 304;
  return new Response(nullBody ? null : (body as BodyInit), {
    status,
    headers: headers.map(([n, v]): [string, string] => [n, v]),
  });
}

function suiteOption(channel: Channel): { suite?: Suite } {
  return channel.suite === undefined ? {} : { suite: channel.suite };
}

/** OpenAI streams when the JSON body says `"stream": true`. */
function wantsStream(headers: Fields, body: Uint8Array): boolean {
  const type = headers.find(([name]) => name === "content-type")?.[1] ?? "";
  if (!type.includes("json") || body.length === 0) return false;
  try {
    return (JSON.parse(new TextDecoder().decode(body)) as { stream?: unknown }).stream === true;
  } catch {
    return false;
  }
}

async function refusal(response: Response): Promise<Error> {
  let problem: Problem;
  try {
    problem = (await response.json()) as Problem;
  } catch {
    problem = { type: "about:blank", title: response.statusText, status: response.status };
  }
  if (problem.type === PROBLEMS.unknownKey)
    return new StaleKeyError("channel.stale_key", problem.detail ?? problem.title);
  return new GatewayError(problem);
}
