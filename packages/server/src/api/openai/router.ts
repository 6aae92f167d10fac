import type { EngineRegistry } from "../../engines/registry.js";
import { QueueFullError, type WorkQueue } from "../../engines/work-queue.js";
import type { InnerHandler } from "../inner.js";
import { chatCompletions } from "./chat-completions.js";
import { completions } from "./completions.js";
import { embeddings } from "./embeddings.js";
import { openAiError } from "./errors.js";
import { models } from "./models.js";

/** The OpenAI-compatible routes, served by local engines. */
export function openAiRouter(registry: EngineRegistry, queue: WorkQueue): InnerHandler {
  const routes = new Map<string, InnerHandler>([
    ["GET /v1/models", models(registry)],
    ["POST /v1/chat/completions", chatCompletions(registry, queue)],
    ["POST /v1/completions", completions(registry, queue)],
    ["POST /v1/embeddings", embeddings(registry, queue)],
  ]);
  const paths = new Set([...routes.keys()].map((key) => key.split(" ")[1]));
  return async (request) => {
    const path = request.path.split("?")[0] ?? "";
    const handler = routes.get(`${request.method} ${path}`);
    if (handler !== undefined) {
      try {
        return await handler(request);
      } catch (error) {
        if (error instanceof QueueFullError)
          return openAiError(503, "overloaded_error", "server_busy", error.message);
        throw error;
      }
    }
    if (paths.has(path)) {
      return openAiError(
        405,
        "invalid_request_error",
        "method_not_allowed",
        `${request.method} is not allowed on ${path}.`,
      );
    }
    return openAiError(
      404,
      "not_found_error",
      "unknown_route",
      `There is no route ${request.method} ${path}.`,
    );
  };
}
