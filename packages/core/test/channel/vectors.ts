import { rejects } from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex } from "@cloister/core";
import { TESTVECTORS } from "../support/testvectors.js";

export const VECTORS = TESTVECTORS;

/** The hex blocks of RFC 9458 Appendix A and of the chunked draft's example, by our labels. */
export interface ExampleValues {
  skR: string;
  key_config: string;
  request: string;
  skE: string;
  pkE: string;
  info: string;
  enc_request: string;
  response: string;
  secret: string;
  salt: string;
  prk: string;
  aead_key: string;
  aead_nonce: string;
  enc_response: string;
}

export function vectorBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(join(VECTORS, path)));
}

export function vectorJson<T>(path: string): T {
  return JSON.parse(readFileSync(join(VECTORS, path), "utf8")) as T;
}

export function hex(text: string): Uint8Array {
  const bytes = fromHex(text);
  if (bytes === undefined) throw new Error(`bad hex in a test vector: ${text.slice(0, 16)}`);
  return bytes;
}

/** A ReadableStream that yields `bytes` cut at the given offsets. */
export function streamOf(
  bytes: Uint8Array,
  cuts: readonly number[] = [],
): ReadableStream<Uint8Array> {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    pieces.push(bytes.slice(from, point));
    from = point;
  }
  return new ReadableStream({
    pull(controller) {
      const next = pieces.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
}

/** Asserts that `promise` rejects with a CloisterError of `code`. */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await rejects(promise, (error: unknown) => {
    const actual = (error as { code?: unknown }).code;
    if (actual !== code)
      throw new Error(`expected ${code}, got ${String(actual)}: ${String(error)}`);
    return true;
  });
}
