/**
 * A tiny llama-architecture GGUF whose behaviour is known exactly: a character bigram model.
 * The next-token distribution depends only on the current token and is whatever the caller
 * writes down, so tests can predict greedy output exactly and check sampling statistically.
 *
 * How the weights make logits equal log P(next | current), up to float32 rounding:
 * - one layer whose attention and FFN weights are all zero, so both add exactly 0 to the
 *   residual stream, which therefore still holds the token embedding at the end;
 * - the embedding of token t is the one-hot vector e_t (n_embd = vocabulary size, 258);
 * - the final RMSNorm maps e_t to s * e_t with s = 1 / sqrt(1/n_embd + eps) (its weight is 1);
 * - output[v][t] = log P(v | t) / s, so logit_v = output[v] . (s e_t) = log P(v | t).
 * A probability of 0 becomes a logit of -1e4, which softmax turns into exactly 0 (a true
 * -Infinity would give NaN, since the matrix product also multiplies it by the zeros).
 *
 * The tokenizer is tools/gguf/byte-vocab.ts: one token per byte, so an ASCII character is one
 * token and a multi-byte character is a fixed chain of byte tokens (see `Bigrams`).
 */

import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BOS_TOKEN_ID,
  byteVocabMetadata,
  EOS_TOKEN_ID,
  VOCAB_SIZE,
} from "../../../../tools/gguf/byte-vocab.js";
import { type GgufTensor, writeGguf } from "../../../../tools/gguf/writer.js";

/**
 * Next-character probabilities: `bigrams[current][next]`. The empty string stands for the text
 * boundary: as `current` it is the start of text (the BOS token), as `next` the end of text (EOS).
 * Each row must sum to 1. A character missing as `current` is followed by end of text.
 *
 * A multi-byte character as `next` gets its probability on its first byte, and its remaining
 * bytes follow with certainty; as `current` its row sits on its last byte. Two characters that
 * would need different rows on the same byte (e.g. "é" and "ü" share the lead byte 0xC3, both
 * as `next`) are refused.
 */
export type Bigrams = Readonly<Record<string, Readonly<Record<string, number>>>>;

/**
 * The default distribution, chosen so one model serves every engine test:
 * - start of text: "abcabc…" forever (length limits, stop strings, cancellation, parallelism);
 * - "h": "i" 0.5, "e" 0.3, "o" 0.2 (sampling statistics; greedy picks "i"), then "i!" and end;
 * - ":" then " ok" and end (the reply to the plain-text chat prompt, which ends in "Assistant:");
 * - "x" then "é…" and end (two- and three-byte UTF-8 characters while streaming).
 */
export const DEFAULT_BIGRAMS: Bigrams = {
  "": { a: 1 },
  a: { b: 1 },
  b: { c: 1 },
  c: { a: 1 },
  h: { i: 0.5, e: 0.3, o: 0.2 },
  i: { "!": 1 },
  "!": { "": 1 },
  ":": { " ": 1 },
  " ": { o: 1 },
  o: { k: 1 },
  k: { "": 1 },
  x: { é: 1 },
  é: { "…": 1 },
  "…": { "": 1 },
};

export interface BigramModelOptions {
  readonly bigrams?: Bigrams;
  /** llama.context_length, the context the model claims to be trained for. */
  readonly contextLength?: number;
  /** Stored as tokenizer.chat_template when given. */
  readonly chatTemplate?: string;
  /** File name without ".gguf"; the engine's default model id. */
  readonly name?: string;
}

const RMS_EPSILON = 1e-6;
/** Attention and FFN are zero, so their sizes only need to be valid; keep them tiny. */
const HEAD_DIM = 4;
const FFN_DIM = 4;
const ZERO_PROBABILITY_LOGIT = -1e4;

/**
 * Writes the model into a fresh temporary directory and returns the file's path. The caller
 * removes it: `await rm(dirname(path), { recursive: true, force: true })`.
 */
export async function writeBigramModel(options: BigramModelOptions = {}): Promise<string> {
  const { bigrams = DEFAULT_BIGRAMS, contextLength = 512, chatTemplate, name = "bigram" } = options;
  const probabilities = bigramTable(bigrams);
  const n = VOCAB_SIZE;
  const scale = 1 / Math.sqrt(1 / n + Math.fround(RMS_EPSILON));

  const embedding = new Float32Array(n * n);
  for (let t = 0; t < n; t++) embedding[t * n + t] = 1;
  const output = new Float32Array(n * n);
  for (let t = 0; t < n; t++) {
    const row = probabilities[t] as Float64Array;
    for (let v = 0; v < n; v++) {
      const p = row[v] as number;
      output[v * n + t] = (p > 0 ? Math.log(p) : ZERO_PROBABILITY_LOGIT) / scale;
    }
  }

  const ones = () => new Float32Array(n).fill(1);
  const zeros = (dims: number[]): GgufTensor["data"] =>
    new Float32Array(dims.reduce((a, b) => a * b));
  const tensor = (name: string, dims: number[], data = zeros(dims)): GgufTensor => ({
    name,
    dims,
    type: "f32",
    data,
  });

  const path = join(await mkdtemp(join(tmpdir(), "cloister-bigram-")), `${name}.gguf`);
  await writeGguf(path, {
    metadata: {
      "general.architecture": { type: "string", value: "llama" },
      "general.name": { type: "string", value: name },
      "general.file_type": { type: "u32", value: 0 },
      "llama.context_length": { type: "u32", value: contextLength },
      "llama.embedding_length": { type: "u32", value: n },
      "llama.block_count": { type: "u32", value: 1 },
      "llama.feed_forward_length": { type: "u32", value: FFN_DIM },
      "llama.attention.head_count": { type: "u32", value: 1 },
      "llama.attention.head_count_kv": { type: "u32", value: 1 },
      "llama.attention.key_length": { type: "u32", value: HEAD_DIM },
      "llama.attention.value_length": { type: "u32", value: HEAD_DIM },
      "llama.rope.dimension_count": { type: "u32", value: HEAD_DIM },
      "llama.attention.layer_norm_rms_epsilon": { type: "f32", value: RMS_EPSILON },
      "llama.vocab_size": { type: "u32", value: n },
      ...byteVocabMetadata(),
      ...(chatTemplate === undefined
        ? {}
        : { "tokenizer.chat_template": { type: "string", value: chatTemplate } as const }),
    },
    tensors: [
      tensor("token_embd.weight", [n, n], embedding),
      tensor("blk.0.attn_norm.weight", [n], ones()),
      tensor("blk.0.attn_q.weight", [n, HEAD_DIM]),
      tensor("blk.0.attn_k.weight", [n, HEAD_DIM]),
      tensor("blk.0.attn_v.weight", [n, HEAD_DIM]),
      tensor("blk.0.attn_output.weight", [HEAD_DIM, n]),
      tensor("blk.0.ffn_norm.weight", [n], ones()),
      tensor("blk.0.ffn_gate.weight", [n, FFN_DIM]),
      tensor("blk.0.ffn_up.weight", [n, FFN_DIM]),
      tensor("blk.0.ffn_down.weight", [FFN_DIM, n]),
      tensor("output_norm.weight", [n], ones()),
      tensor("output.weight", [n, n], output),
    ],
  });
  return path;
}

/** P(next token | current token) for every token id, from the character-level description. */
function bigramTable(bigrams: Bigrams): Float64Array[] {
  const rows: (Float64Array | undefined)[] = new Array(VOCAB_SIZE);
  const set = (token: number, row: Float64Array, what: string) => {
    const existing = rows[token];
    if (existing !== undefined && !existing.every((p, i) => p === row[i])) {
      throw new Error(`Conflicting next-token rows for token ${token} (${what}).`);
    }
    rows[token] = row;
  };

  for (const [current, nexts] of Object.entries(bigrams)) {
    const row = new Float64Array(VOCAB_SIZE);
    let total = 0;
    for (const [next, p] of Object.entries(nexts)) {
      if (!(p >= 0))
        throw new Error(`P(${JSON.stringify(next)} | ${JSON.stringify(current)}) must be >= 0.`);
      const bytes = characterBytes(next);
      const first = bytes[0] ?? EOS_TOKEN_ID;
      row[first] = (row[first] as number) + p;
      total += p;
      for (let i = 1; i < bytes.length; i++) {
        const forced = new Float64Array(VOCAB_SIZE);
        forced[bytes[i] as number] = 1;
        set(bytes[i - 1] as number, forced, `inside ${JSON.stringify(next)}`);
      }
    }
    if (Math.abs(total - 1) > 1e-9)
      throw new Error(`The row for ${JSON.stringify(current)} sums to ${total}.`);
    const bytes = characterBytes(current);
    set(bytes.at(-1) ?? BOS_TOKEN_ID, row, `after ${JSON.stringify(current)}`);
  }

  const endOfText = new Float64Array(VOCAB_SIZE);
  endOfText[EOS_TOKEN_ID] = 1;
  return Array.from(rows, (row) => row ?? endOfText);
}

function characterBytes(character: string): Uint8Array {
  if ([...character].length > 1)
    throw new Error(`${JSON.stringify(character)} is not one character.`);
  return new TextEncoder().encode(character);
}
