import { CloisterError } from "@cloister/core";
import { openEncryptedModel } from "./decrypt-stream.js";
import { ioError } from "./io-error.js";
import type { ModelKeyring } from "./model-key.js";
import { writeAtomically } from "./write-atomically.js";

export interface DecryptOptions {
  readonly keys: ModelKeyring;
  /** Called after each authenticated segment with its plaintext size. */
  readonly onProgress?: (plaintextBytes: number) => void;
}

/**
 * Decrypts `source` into `destination` (mode 0600). The plaintext goes to a temporary file in
 * the destination's directory, which is renamed into place only after the final segment
 * authenticated and the plaintext's SHA-256 matched the header; on any failure it is removed
 * and a typed error (`model.encrypted.*`) thrown. An existing `destination` is replaced.
 * Returns the number of plaintext bytes.
 */
export async function decryptModelFile(
  source: string,
  destination: string,
  options: DecryptOptions,
): Promise<number> {
  let total = 0;
  async function* counted() {
    for await (const chunk of openEncryptedModel(source, options.keys)) {
      total += chunk.length;
      options.onProgress?.(chunk.length);
      yield chunk;
    }
  }
  try {
    await writeAtomically(destination, counted());
  } catch (error) {
    throw error instanceof CloisterError ? error : ioError("decrypt to", destination, error);
  }
  return total;
}
