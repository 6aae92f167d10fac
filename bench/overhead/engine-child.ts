/**
 * The baseline process: the engine alone, called in-process the way the OpenAI routes call it.
 * It imports llama.ts directly rather than @cloister/server, whose index also loads the HTTP
 * server, the crypto and the embeddings runtime: that is exactly what the memory comparison
 * must leave out of this process.
 */

import { loadLlamaEngine } from "../../packages/server/src/engines/llama.js";
import { serve } from "./ipc.js";
import {
  type EngineChildApi,
  type EngineSettings,
  type GenerationRequest,
  type ModelReady,
  processApi,
  type Sample,
} from "./protocol.js";

const settings = JSON.parse(process.argv[2] ?? "{}") as EngineSettings;
const engine = await loadLlamaEngine({
  modelPath: settings.modelPath,
  gpu: false,
  threads: settings.threads,
  parallel: 1,
});

async function generate({ api, prompt, maxTokens, stream }: GenerationRequest): Promise<Sample> {
  let ttftMs: number | null = null;
  const start = performance.now();
  const options = {
    maxTokens,
    temperature: 0,
    // Streaming routes pass onText; the engine then hands over each piece as it is decoded.
    ...(stream
      ? {
          onText: () => {
            ttftMs ??= performance.now() - start;
          },
        }
      : {}),
  };
  const generation =
    api === "chat"
      ? await engine.chat([{ role: "user", content: prompt }], options)
      : await engine.complete(prompt, options);
  const latencyMs = performance.now() - start;
  return {
    latencyMs,
    ttftMs,
    completionTokens: generation.completionTokens,
    text: generation.text,
  };
}

const api: EngineChildApi = { ...processApi, generate };
serve(
  api,
  { id: engine.id, digest: engine.digest, contextSize: engine.contextSize } satisfies ModelReady,
  () => engine.close(),
);
