import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { isIP } from "node:net";
import { Readable } from "node:stream";
import { CloisterError } from "@cloister/core";
import { CONNECTION_HEADERS } from "../headers.js";
import type { Session } from "../session.js";

export interface ProxyOptions {
  /** The verified session every request goes through. */
  readonly session: Session;
  readonly host: string;
  readonly port: number;
  /**
   * The proxy speaks plaintext to its callers: on anything but loopback, whoever can reach the
   * port reads prompts and answers. Refused unless this is set.
   */
  readonly allowNonLoopback?: boolean;
}

export interface RunningProxy {
  readonly url: string;
  close(): Promise<void>;
}

// The answer is relayed as it comes out of the channel, so ask for it uncompressed.
const NOT_FORWARDED = new Set([...CONNECTION_HEADERS, "accept-encoding"]);

/**
 * A local OpenAI-compatible endpoint: plaintext on loopback, and every request re-sent through
 * the session (sealed to the attested workload, receipt verified). Any OpenAI client works
 * unchanged by pointing its base URL here.
 */
export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  if (!isLoopback(options.host) && options.allowNonLoopback !== true) {
    throw new CloisterError(
      "proxy.non_loopback",
      `Refusing to listen on ${options.host}: the proxy serves plaintext, so anyone who reaches it reads prompts and answers. Listen on 127.0.0.1 (or force it knowingly).`,
    );
  }
  const server = createServer((request, response) => {
    forward(options.session, request, response).catch((error: unknown) => fail(response, error));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function forward(
  session: Session,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const abort = new AbortController();
  response.on("close", () => {
    if (!response.writableFinished) abort.abort();
  });
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined && !NOT_FORWARDED.has(name))
      headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const method = request.method ?? "GET";
  const answer = await session.fetch(new URL(request.url ?? "/", session.url), {
    method,
    headers,
    ...(method === "GET" || method === "HEAD" ? {} : { body: Buffer.concat(chunks) }),
    signal: abort.signal,
  });
  response.writeHead(answer.status, Object.fromEntries(answer.headers));
  if (answer.body === null) {
    response.end();
    return;
  }
  const body = Readable.fromWeb(
    answer.body as import("node:stream/web").ReadableStream<Uint8Array>,
  );
  body.on("error", (error) => {
    // The answer failed mid-way (e.g. its receipt did not verify): cut the connection rather than end it cleanly.
    response.destroy(error);
  });
  body.pipe(response);
}

function fail(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const known = error instanceof CloisterError;
  response.writeHead(502, { "content-type": "application/json" });
  response.end(
    JSON.stringify({
      error: {
        message: known
          ? error.message
          : "The proxy could not complete the request through the attested channel.",
        type: "proxy_error",
        param: null,
        code: known ? error.code : "proxy_error",
      },
    }),
  );
}

function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}
