import type { ChatMessage, Generation } from "../../engines/engine.js";
import type { EngineRegistry } from "../../engines/registry.js";
import type { WorkQueue } from "../../engines/work-queue.js";
import type { InnerHandler } from "../inner.js";
import { type GenerationShape, generationHandler, usage } from "./generate.js";
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
  return generationHandler(registry, queue, {
    schema: chatCompletionRequest,
    shape,
    sampling: (body) => samplingOf(body, body.max_completion_tokens ?? body.max_tokens),
    run: (engine, body, options) => engine.chat(body.messages.map(toChatMessage), options),
  });
}

function toChatMessage(message: ChatCompletionRequest["messages"][number]): ChatMessage {
  const content = message.content ?? "";
  return {
    role: message.role === "developer" ? "system" : message.role,
    content: typeof content === "string" ? content : content.map((part) => part.text).join(""),
  };
}
