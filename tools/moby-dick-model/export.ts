/**
 * Turns train.py's safetensors output into the committed GGUF, and writes its SHA256SUMS.
 *
 *   node --import tsx tools/moby-dick-model/export.ts /tmp/moby-dick-train/moby-dick-char.safetensors [out-dir]
 *
 * out-dir defaults to packages/server/models/moby-dick-char.
 *
 * train.py already names tensors as llama.cpp does and trains in llama.cpp's RoPE convention,
 * so each tensor is copied as is; only the dimension order flips (PyTorch lists the slowest
 * dimension first, ggml the fastest).
 */

import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { byteVocabMetadata, VOCAB_SIZE } from "../gguf/byte-vocab.js";
import { encodeGguf, type GgufTensor } from "../gguf/writer.js";

const MODEL_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../packages/server/models/moby-dick-char",
);
const MODEL_FILE = "moby-dick-char.gguf";

interface SafetensorsEntry {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data_offsets: readonly [number, number];
}

/** The safetensors layout: u64 little-endian header length, a JSON header, then the data. */
function readSafetensors(bytes: Uint8Array): {
  tensors: GgufTensor[];
  metadata: Record<string, string>;
} {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(
    new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)),
  ) as Record<string, SafetensorsEntry | Record<string, string>>;
  const dataStart = 8 + headerLength;
  const { __metadata__: metadata = {}, ...entries } = header as Record<string, SafetensorsEntry> & {
    __metadata__?: Record<string, string>;
  };
  const tensors = Object.entries(entries).map(([name, entry]): GgufTensor => {
    if (entry.dtype !== "F32") throw new Error(`${name}: expected F32, found ${entry.dtype}`);
    const [start, end] = entry.data_offsets;
    const data = new Float32Array((end - start) / 4);
    for (let i = 0; i < data.length; i++)
      data[i] = view.getFloat32(dataStart + start + 4 * i, true);
    return { name, dims: [...entry.shape].reverse(), type: "f32", data };
  });
  return { tensors, metadata };
}

async function main(): Promise<void> {
  const [input, outDir = MODEL_DIR] = process.argv.slice(2);
  if (input === undefined)
    throw new Error("usage: export.ts <moby-dick-char.safetensors> [out-dir]");
  const { tensors, metadata: hp } = readSafetensors(await readFile(input));
  const int = (key: string) => {
    const value = Number(hp[key]);
    if (!Number.isInteger(value)) throw new Error(`safetensors metadata lacks an integer "${key}"`);
    return value;
  };
  if (int("vocab") !== VOCAB_SIZE)
    throw new Error(`vocabulary ${hp.vocab} is not the byte vocabulary`);
  const headDim = int("dim") / int("heads");

  const gguf = encodeGguf({
    metadata: {
      "general.architecture": { type: "string", value: "llama" },
      "general.name": { type: "string", value: "moby-dick-char" },
      "general.description": {
        type: "string",
        value:
          "A ~0.9M-parameter byte-level llama trained for ten minutes on Moby-Dick. Its output is " +
          "Moby-Dick-flavoured nonsense; it exists to exercise Cloister's attested, encrypted path.",
      },
      "general.license": { type: "string", value: "Apache-2.0" },
      "general.file_type": { type: "u32", value: 0 },
      "llama.context_length": { type: "u32", value: int("context") },
      "llama.embedding_length": { type: "u32", value: int("dim") },
      "llama.block_count": { type: "u32", value: int("layers") },
      "llama.feed_forward_length": { type: "u32", value: int("ffn") },
      "llama.attention.head_count": { type: "u32", value: int("heads") },
      "llama.attention.head_count_kv": { type: "u32", value: int("heads") },
      "llama.rope.dimension_count": { type: "u32", value: headDim },
      "llama.rope.freq_base": { type: "f32", value: Number(hp.rope_base) },
      "llama.attention.layer_norm_rms_epsilon": { type: "f32", value: Number(hp.rms_eps) },
      "llama.vocab_size": { type: "u32", value: VOCAB_SIZE },
      ...byteVocabMetadata(),
    },
    tensors,
  });

  await mkdir(outDir, { recursive: true });
  const path = join(outDir, MODEL_FILE);
  await writeFile(path, gguf);
  const digest = createHash("sha256").update(gguf).digest("hex");
  await writeFile(join(outDir, "SHA256SUMS"), `${digest}  ${basename(path)}\n`);
  console.log(`wrote ${path} (${gguf.length} bytes, ${tensors.length} tensors)\nsha256 ${digest}`);
}

await main();
