import type { EngineRegistry } from "../../engines/registry.js";
import type { WorkQueue } from "../../engines/work-queue.js";
import type { InnerHandler } from "../inner.js";
import { modelNotFound, openAiError } from "./errors.js";
import { json } from "./json.js";
import { parseBody } from "./parse-body.js";
import { embeddingRequest } from "./schemas.js";

/** POST /v1/embeddings. The official SDKs ask for base64 by default and decode it themselves. */
export function embeddings(registry: EngineRegistry, queue: WorkQueue): InnerHandler {
  return async (request) => {
    const parsed = parseBody(embeddingRequest, request.body);
    if (!parsed.ok) return parsed.response;
    const body = parsed.value;
    const engine = registry.embeddings(body.model);
    if (engine === undefined) {
      return modelNotFound(body.model, "embeddings", registry);
    }
    if (body.dimensions !== undefined && body.dimensions !== engine.dimensions) {
      return openAiError(
        400,
        "invalid_request_error",
        "invalid_dimensions",
        `Model ${engine.id} produces ${engine.dimensions}-dimensional embeddings only.`,
        "dimensions",
      );
    }
    const texts = typeof body.input === "string" ? [body.input] : body.input;
    const release = await queue.acquire(request.signal);
    try {
      const result = await engine.embed(texts, request.signal);
      const base64 = body.encoding_format === "base64";
      return json(
        200,
        {
          object: "list",
          data: result.vectors.map((vector, index) => ({
            object: "embedding",
            index,
            embedding: base64
              ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString("base64")
              : Array.from(vector),
          })),
          model: engine.id,
          usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
        },
        engine.digest,
      );
    } finally {
      release();
    }
  };
}
