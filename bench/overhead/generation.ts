/**
 * Generation: the same greedy requests three ways — the engine in its own process, Cloister end
 * to end (openai SDK -> session.fetch -> OHTTP -> workload), and, for reference, the same SDK
 * over the workload's plaintext routes — interleaved request by request so that drift in the
 * machine's speed falls on all three alike.
 */

import type OpenAI from "openai";
import { type Distribution, distribution, round } from "../shared/stats.js";
import type { Child } from "./ipc.js";
import type { Options } from "./options.js";
import { PROMPTS } from "./prompts.js";
import type {
  EngineChildApi,
  GenerationApi,
  GenerationRequest,
  ModelReady,
  Sample,
} from "./protocol.js";

export const PATHS = ["inProcess", "cloister", "plaintext"] as const;
export type Path = (typeof PATHS)[number];

export interface PathSummary {
  readonly requests: number;
  readonly completionTokens: number;
  /** All completion tokens over all request time: long requests weigh as much as they last. */
  readonly tokensPerSecond: number;
  readonly latencyMs: Distribution;
  readonly ttftMs: Distribution | null;
  /** Every measured latency, in the order sent. */
  readonly latenciesMs: readonly number[];
}

export interface Comparison {
  /** tokens/s of this path over tokens/s in-process. */
  readonly tokensPerSecondRatio: number;
  readonly addedP50Ms: number;
  /**
   * Median over requests of (this path's latency - in-process latency) for the same prompt in
   * the same round: steadier than the difference of the p50s when the machine's speed drifts.
   */
  readonly pairedAddedMedianMs: number;
  readonly addedP95Ms: number;
  readonly addedTtftP50Ms: number | null;
}

export interface GenerationCell {
  readonly api: GenerationApi;
  readonly stream: boolean;
  readonly paths: Record<Path, PathSummary>;
  readonly cloisterVsInProcess: Comparison;
  readonly plaintextVsInProcess: Comparison;
  /** Whether every path produced the same text and token count for every request (greedy). */
  readonly identicalOutputs: boolean;
}

export interface Clients {
  readonly engine: Child<EngineChildApi, ModelReady>;
  readonly cloister: OpenAI;
  readonly plaintext: OpenAI;
  readonly model: string;
}

type Send = (request: GenerationRequest) => Promise<Sample>;

export async function measureGeneration(
  clients: Clients,
  options: Options,
  progress: (line: string) => void,
): Promise<GenerationCell[]> {
  const send: Record<Path, Send> = {
    inProcess: (request) => clients.engine.call("generate", request),
    cloister: (request) => viaOpenAi(clients.cloister, clients.model, request),
    plaintext: (request) => viaOpenAi(clients.plaintext, clients.model, request),
  };
  const kinds = options.apis.flatMap((api) => [false, true].map((stream) => ({ api, stream })));
  const samples = kinds.map(() => ({
    inProcess: [] as Sample[],
    cloister: [] as Sample[],
    plaintext: [] as Sample[],
    identical: true,
  }));
  const prompts = PROMPTS.slice(0, options.prompts);
  const total = options.warmupRounds + options.rounds;
  for (let round = 0; round < total; round++) {
    const measured = round >= options.warmupRounds;
    progress(`generation round ${round + 1}/${total}${measured ? "" : " (warm-up)"}`);
    for (const [p, prompt] of prompts.entries()) {
      for (const [k, { api, stream }] of kinds.entries()) {
        const request = { api, prompt, maxTokens: options.maxTokens, stream };
        // Rotate which path goes first, so none is always the one right after another's work.
        const order = PATHS.map((_, i) => PATHS[(i + round + p) % PATHS.length] as Path);
        const got = {} as Record<Path, Sample>;
        for (const path of order) got[path] = await send[path](request);
        if (!measured) continue;
        const cell = samples[k] as (typeof samples)[number];
        for (const path of PATHS) cell[path].push(got[path]);
        cell.identical &&= PATHS.every(
          (path) =>
            got[path].text === got.inProcess.text &&
            got[path].completionTokens === got.inProcess.completionTokens,
        );
      }
    }
  }
  return kinds.map(({ api, stream }, k) => {
    const cell = samples[k] as (typeof samples)[number];
    const paths = {
      inProcess: summarize(cell.inProcess),
      cloister: summarize(cell.cloister),
      plaintext: summarize(cell.plaintext),
    };
    return {
      api,
      stream,
      paths,
      cloisterVsInProcess: compare(paths.cloister, paths.inProcess),
      plaintextVsInProcess: compare(paths.plaintext, paths.inProcess),
      identicalOutputs: cell.identical,
    };
  });
}

/** One request through the official SDK, timed from the call until the body (or stream) ends. */
async function viaOpenAi(
  client: OpenAI,
  model: string,
  request: GenerationRequest,
): Promise<Sample> {
  const start = performance.now();
  let ttftMs: number | null = null;
  let text = "";
  let completionTokens: number | undefined;
  for await (const piece of pieces(client, model, request)) {
    if (request.stream && piece.text !== "") ttftMs ??= performance.now() - start;
    text += piece.text;
    completionTokens = piece.completionTokens ?? completionTokens;
  }
  const latencyMs = performance.now() - start;
  if (completionTokens === undefined) throw new Error("The response carried no usage.");
  return { latencyMs, ttftMs, completionTokens, text };
}

interface Piece {
  readonly text: string;
  readonly completionTokens?: number;
}

/** The response as pieces of text: one for a whole body, one per chunk for a stream. */
async function* pieces(
  client: OpenAI,
  model: string,
  { api, prompt, maxTokens, stream }: GenerationRequest,
): AsyncGenerator<Piece> {
  const common = { model, max_tokens: maxTokens, temperature: 0 };
  const messages = [{ role: "user" as const, content: prompt }];
  const streamed = { stream: true as const, stream_options: { include_usage: true } };
  if (api === "chat" && !stream) {
    const body = await client.chat.completions.create({ ...common, messages });
    yield piece(body.choices[0]?.message.content, body.usage);
  } else if (api === "chat") {
    for await (const chunk of await client.chat.completions.create({
      ...common,
      messages,
      ...streamed,
    }))
      yield piece(chunk.choices[0]?.delta.content, chunk.usage);
  } else if (!stream) {
    const body = await client.completions.create({ ...common, prompt });
    yield piece(body.choices[0]?.text, body.usage);
  } else {
    for await (const chunk of await client.completions.create({ ...common, prompt, ...streamed }))
      yield piece(chunk.choices[0]?.text, chunk.usage);
  }
}

function piece(
  text: string | null | undefined,
  usage: { completion_tokens: number } | null | undefined,
): Piece {
  return { text: text ?? "", ...(usage ? { completionTokens: usage.completion_tokens } : {}) };
}

function summarize(samples: readonly Sample[]): PathSummary {
  const latencies = samples.map((s) => s.latencyMs);
  const ttfts = samples.flatMap((s) => (s.ttftMs === null ? [] : [s.ttftMs]));
  const tokens = samples.reduce((sum, s) => sum + s.completionTokens, 0);
  const seconds = latencies.reduce((sum, ms) => sum + ms, 0) / 1000;
  return {
    requests: samples.length,
    completionTokens: tokens,
    tokensPerSecond: round(tokens / seconds, 1),
    latencyMs: distribution(latencies),
    ttftMs: ttfts.length === 0 ? null : distribution(ttfts),
    latenciesMs: latencies.map((ms) => round(ms)),
  };
}

function compare(path: PathSummary, baseline: PathSummary): Comparison {
  return {
    tokensPerSecondRatio: round(path.tokensPerSecond / baseline.tokensPerSecond, 4),
    addedP50Ms: round(path.latencyMs.p50 - baseline.latencyMs.p50),
    pairedAddedMedianMs: distribution(
      path.latenciesMs.map((ms, i) => ms - (baseline.latenciesMs[i] as number)),
    ).p50,
    addedP95Ms: round(path.latencyMs.p95 - baseline.latencyMs.p95),
    addedTtftP50Ms:
      path.ttftMs === null || baseline.ttftMs === null
        ? null
        : round(path.ttftMs.p50 - baseline.ttftMs.p50),
  };
}
