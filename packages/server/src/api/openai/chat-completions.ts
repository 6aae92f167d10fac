import type { ChatMessage, Generation } from "../../engines/engine.js";
import type { EngineRegistry } from "../../engines/registry.js";
import type { WorkQueue } from "../../engines/work-queue.js";
import type { InnerHandler } from "../inner.js";
import { modelNotFound } from "./errors.js";
import { type GenerationShape, generate, usage } from "./generate.js";
import { parseBody } from "./parse-body.js";
import { samplingOf } from "./sampling.js";
import { type ChatCompletionRequest, chatCompletionRequest } from "./schemas.js";

const shape: GenerationShape = {
  idPrefix: "chatcmpl",
  whole: (meta, g: Generation) => ({
    id: meta.id,
    object: "chat.completion",
    created: meta.created,
    model: meta.model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: g.text, refusal: null },
        logprobs: null,
        finish_reason: g.finishReason,
      },
    ],
    usage: usage(g),
  }),
  chunk: (meta, text, finish, first) => ({
    id: meta.id,
    object: "chat.completion.chunk",
    created: meta.created,
    model: meta.model,
    choices: [
      {
        index: 0,
        delta: first ? { role: "assistant", content: text } : { content: text },
        logprobs: null,
        finish_reason: finish,
      },
    ],
  }),
  usageChunk: (meta, g) => ({
    id: meta.id,
    object: "chat.completion.chunk",
    created: meta.created,
    model: meta.model,
    choices: [],
    usage: usage(g),
  }),
};

/** POST /v1/chat/completions */
export function chatCompletions(registry: EngineRegistry, queue: WorkQueue): InnerHandler {
  return async (request) => {
    const parsed = parseBody(chatCompletionRequest, request.body);
    if (!parsed.ok) return parsed.response;
    const body = parsed.value;
    const engine = registry.chat(body.model);
    if (engine === undefined) {
      return modelNotFound(body.model, "chat", registry);
    }
    const messages = body.messages.map(toChatMessage);
    return generate(
      {
        engine,
        queue,
        signal: request.signal,
        stream: body.stream === true,
        includeUsage: body.stream_options?.include_usage === true,
        sampling: samplingOf(body, body.max_completion_tokens ?? body.max_tokens),
        run: (e, options) => e.chat(messages, options),
      },
      shape,
    );
  };
}

function toChatMessage(message: ChatCompletionRequest["messages"][number]): ChatMessage {
  const content = message.content ?? "";
  return {
    role: message.role === "developer" ? "system" : message.role,
    content: typeof content === "string" ? content : content.map((part) => part.text).join(""),
  };
}
