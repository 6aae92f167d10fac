import type { Generation } from "../../engines/engine.js";
import type { EngineRegistry } from "../../engines/registry.js";
import type { WorkQueue } from "../../engines/work-queue.js";
import type { InnerHandler } from "../inner.js";
import { modelNotFound } from "./errors.js";
import { type GenerationShape, generate, usage } from "./generate.js";
import { parseBody } from "./parse-body.js";
import { samplingOf } from "./sampling.js";
import { completionRequest } from "./schemas.js";

/** The legacy completions API defaults to 16 tokens. */
const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

const shape: GenerationShape = {
  idPrefix: "cmpl",
  whole: (meta, g: Generation) => ({
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, text: g.text, logprobs: null, finish_reason: g.finishReason }],
    usage: usage(g),
  }),
  chunk: (meta, text, finish) => ({
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, text, logprobs: null, finish_reason: finish }],
  }),
  usageChunk: (meta, g) => ({
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    choices: [],
    usage: usage(g),
  }),
};

/** POST /v1/completions */
export function completions(registry: EngineRegistry, queue: WorkQueue): InnerHandler {
  return async (request) => {
    const parsed = parseBody(completionRequest, request.body);
    if (!parsed.ok) return parsed.response;
    const body = parsed.value;
    const engine = registry.chat(body.model);
    if (engine === undefined) {
      return modelNotFound(body.model, "chat", registry);
    }
    const prompt = typeof body.prompt === "string" ? body.prompt : (body.prompt[0] as string);
    return generate(
      {
        engine,
        queue,
        signal: request.signal,
        stream: body.stream === true,
        includeUsage: body.stream_options?.include_usage === true,
        sampling: samplingOf(body, body.max_tokens, COMPLETIONS_DEFAULT_MAX_TOKENS),
        run: (e, options) => e.complete(prompt, options),
      },
      shape,
    );
  };
}
