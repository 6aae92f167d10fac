import { randomUUID } from "node:crypto";
import { CloisterError } from "@cloister/core";
import type { z } from "zod";
import type {
  ChatEngine,
  FinishReason,
  GenerateOptions,
  Generation,
  SamplingOptions,
} from "../../engines/engine.js";
import type { EngineRegistry } from "../../engines/registry.js";
import type { WorkQueue } from "../../engines/work-queue.js";
import type { InnerHandler, InnerResponse } from "../inner.js";
import { PushStream } from "../push-stream.js";
import { modelNotFound, openAiError } from "./errors.js";
import { json, SSE_DONE, sseEvent } from "./json.js";
import { parseBody } from "./parse-body.js";

/** How one OpenAI generation endpoint shapes its bodies (chat vs legacy completions). */
export interface GenerationShape {
  readonly idPrefix: string;
  /** The non-streamed body. */
  whole(meta: Meta, generation: Generation): unknown;
  /** One streamed chunk: a piece of text, or (with `finish`) the closing chunk. */
  chunk(meta: Meta, text: string, finish: FinishReason | null, first: boolean): unknown;
  /** The usage-only chunk sent last when the caller asked for `stream_options.include_usage`. */
  usageChunk(meta: Meta, generation: Generation): unknown;
}

export interface Meta {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

/** What tells the two generation endpoints apart: their body schema, shapes, and engine call. */
export interface GenerationRoute<B extends GenerationBody> {
  readonly schema: z.ZodType<B>;
  readonly shape: GenerationShape;
  sampling(body: B): SamplingOptions;
  run(engine: ChatEngine, body: B, options: GenerateOptions): Promise<Generation>;
}

interface GenerationBody {
  readonly model?: string | undefined;
  readonly stream?: boolean | null | undefined;
  readonly stream_options?: { readonly include_usage?: boolean | undefined } | null | undefined;
}

/** Parse, pick the engine, generate: the handler both generation endpoints share. */
export function generationHandler<B extends GenerationBody>(
  registry: EngineRegistry,
  queue: WorkQueue,
  route: GenerationRoute<B>,
): InnerHandler {
  return async (request) => {
    const parsed = parseBody(route.schema, request.body);
    if (!parsed.ok) return parsed.response;
    const body = parsed.value;
    const engine = registry.chat(body.model);
    if (engine === undefined) return modelNotFound(body.model, "chat", registry);
    return generate(
      {
        engine,
        queue,
        signal: request.signal,
        stream: body.stream === true,
        includeUsage: body.stream_options?.include_usage === true,
        sampling: route.sampling(body),
        run: (e, options) => route.run(e, body, options),
      },
      route.shape,
    );
  };
}

interface GenerationJob {
  readonly engine: ChatEngine;
  readonly queue: WorkQueue;
  readonly signal: AbortSignal;
  readonly stream: boolean;
  readonly includeUsage: boolean;
  readonly sampling: Omit<GenerateOptions, "signal" | "onText">;
  readonly run: (engine: ChatEngine, options: GenerateOptions) => Promise<Generation>;
}

export function usage(g: Generation) {
  return {
    prompt_tokens: g.promptTokens,
    completion_tokens: g.completionTokens,
    total_tokens: g.promptTokens + g.completionTokens,
  };
}

/**
 * Runs a generation under the work queue and answers as a whole JSON body or as an SSE stream
 * whose events are produced as the engine decodes text.
 */
async function generate(job: GenerationJob, shape: GenerationShape): Promise<InnerResponse> {
  const release = await job.queue.acquire(job.signal);
  const meta: Meta = {
    id: `${shape.idPrefix}-${randomUUID()}`,
    created: Math.floor(Date.now() / 1000),
    model: job.engine.id,
  };
  const digest = job.engine.digest;
  if (!job.stream) {
    try {
      const generation = await job.run(job.engine, { ...job.sampling, signal: job.signal });
      return json(200, shape.whole(meta, generation), digest);
    } catch (error) {
      return engineError(error);
    } finally {
      release();
    }
  }
  const events = new PushStream();
  let first = true;
  const onText = (text: string) => {
    events.push(sseEvent(shape.chunk(meta, text, null, first)));
    first = false;
  };
  job
    .run(job.engine, { ...job.sampling, signal: job.signal, onText })
    .then((generation) => {
      events.push(sseEvent(shape.chunk(meta, "", generation.finishReason, first)));
      if (job.includeUsage) events.push(sseEvent(shape.usageChunk(meta, generation)));
      events.push(SSE_DONE);
      events.end();
    })
    .catch((error: unknown) => {
      // The stream has started: report the failure in-band, as OpenAI does, unless the caller left.
      if (!job.signal.aborted) events.push(sseEvent({ error: errorBody(error) }));
      events.end();
    })
    .finally(release);
  return {
    status: 200,
    headers: [
      ["content-type", "text/event-stream"],
      ["cache-control", "no-cache"],
    ],
    body: events,
    model: digest,
  };
}

function errorBody(error: unknown) {
  if (error instanceof CloisterError) {
    return { message: error.message, type: "invalid_request_error", param: null, code: error.code };
  }
  return {
    message: "The engine failed while generating.",
    type: "server_error",
    param: null,
    code: "engine_error",
  };
}

function engineError(error: unknown): InnerResponse {
  const body = errorBody(error);
  return error instanceof CloisterError
    ? openAiError(400, "invalid_request_error", body.code, body.message)
    : openAiError(500, "server_error", body.code, body.message);
}
