import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { InnerHandler } from "./inner.js";

/**
 * --insecure-plaintext only: the OpenAI routes straight over HTTP, for debugging and for
 * measuring what the encryption costs. Whoever carries these bytes can read prompts and answers.
 */
export function registerPlaintextRoutes(app: FastifyInstance, handler: InnerHandler): void {
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) =>
      done(null, body),
    );
    const route = (request: FastifyRequest, reply: FastifyReply) =>
      forward(request, reply, handler);
    scope.get("/v1/models", route);
    scope.post("/v1/chat/completions", route);
    scope.post("/v1/completions", route);
    scope.post("/v1/embeddings", route);
  });
}

async function forward(
  request: FastifyRequest,
  reply: FastifyReply,
  handler: InnerHandler,
): Promise<unknown> {
  const abort = new AbortController();
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  const headers = Object.entries(request.headers).flatMap(([name, value]) =>
    value === undefined ? [] : [[name, Array.isArray(value) ? value.join(", ") : value] as const],
  );
  const response = await handler({
    method: request.method,
    path: request.url,
    headers,
    body: request.body instanceof Uint8Array ? request.body : new Uint8Array(),
    signal: abort.signal,
  });
  if (response.body instanceof Uint8Array) {
    for (const [name, value] of response.headers) reply.header(name, value);
    return reply.code(response.status).send(Buffer.from(response.body));
  }
  reply.hijack();
  reply.raw.writeHead(response.status, Object.fromEntries(response.headers));
  for await (const piece of response.body) reply.raw.write(piece);
  reply.raw.end();
  return reply;
}
