/**
 * The byte-level tokenizer of Cloister's own tiny models (the bigram test model and the
 * Moby-Dick demo model): token i is byte i for i < 256, then BOS and EOS. Every byte of the
 * UTF-8 input is exactly one token, so an ASCII character is one token and token ids are the
 * bytes themselves, which keeps training and tests free of any tokenizer code.
 *
 * Stored as a llama.cpp "gpt2" (byte-level BPE) vocabulary with no merges: the 256 byte tokens
 * are spelled with GPT-2's byte-to-unicode mapping, which llama.cpp decodes back to raw bytes.
 * The pre-tokenizer is "qwen2" only because llama.cpp cleans up spaces on detokenization
 * (" ." becomes ".") for the generic BPE types and not for that one; without merges the split
 * regex cannot change the result.
 */

import type { GgufValue } from "./writer.js";

export const BYTE_TOKEN_COUNT = 256;
export const BOS_TOKEN_ID = 256;
export const EOS_TOKEN_ID = 257;
export const VOCAB_SIZE = 258;

/** llama.cpp token types (llama_token_type). */
const TOKEN_TYPE = { normal: 1, control: 3 } as const;

/** The printable bytes GPT-2 spells as themselves; the others move to U+0100 and up in order. */
function isSelfSpelled(byte: number): boolean {
  return (
    (byte >= 0x21 && byte <= 0x7e) ||
    (byte >= 0xa1 && byte <= 0xac) ||
    (byte >= 0xae && byte <= 0xff)
  );
}

/** The vocabulary strings, indexed by token id. */
export function byteVocabTokens(): string[] {
  let next = 0x100;
  const tokens = Array.from({ length: BYTE_TOKEN_COUNT }, (_, byte) =>
    String.fromCodePoint(isSelfSpelled(byte) ? byte : next++),
  );
  tokens.push("<s>", "</s>");
  return tokens;
}

/** The `tokenizer.ggml.*` metadata for this vocabulary. */
export function byteVocabMetadata(): Record<string, GgufValue> {
  const tokens = byteVocabTokens();
  return {
    "tokenizer.ggml.model": { type: "string", value: "gpt2" },
    "tokenizer.ggml.pre": { type: "string", value: "qwen2" },
    "tokenizer.ggml.tokens": { type: "array", itemType: "string", value: tokens },
    "tokenizer.ggml.token_type": {
      type: "array",
      itemType: "i32",
      value: tokens.map((_, id) =>
        id < BYTE_TOKEN_COUNT ? TOKEN_TYPE.normal : TOKEN_TYPE.control,
      ),
    },
    "tokenizer.ggml.merges": { type: "array", itemType: "string", value: [] },
    "tokenizer.ggml.bos_token_id": { type: "u32", value: BOS_TOKEN_ID },
    "tokenizer.ggml.eos_token_id": { type: "u32", value: EOS_TOKEN_ID },
    "tokenizer.ggml.add_bos_token": { type: "bool", value: true },
    "tokenizer.ggml.add_eos_token": { type: "bool", value: false },
  };
}
