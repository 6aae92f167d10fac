import type { Generation } from "../../engines/engine.js";
import type { EngineRegistry } from "../../engines/registry.js";
import type { WorkQueue } from "../../engines/work-queue.js";
import type { InnerHandler } from "../inner.js";
import { type GenerationShape, generationHandler, usage } from "./generate.js";
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
  return generationHandler(registry, queue, {
    schema: completionRequest,
    shape,
    sampling: (body) => samplingOf(body, body.max_tokens, COMPLETIONS_DEFAULT_MAX_TOKENS),
    run: (engine, body, options) =>
      engine.complete(
        typeof body.prompt === "string" ? body.prompt : (body.prompt[0] as string),
        options,
      ),
  });
}
