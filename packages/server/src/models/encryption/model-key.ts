import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { CloisterError, MODEL_KEY_BYTES, modelKeyIdProblem } from "@cloister/core";

/**
 * A model owner's 32-byte key and its ID. The bytes sit in a private field and neither JSON nor
 * `util.inspect` shows them, so logging a key or a key ring prints IDs only.
 */
export class ModelKey {
  readonly id: string;
  readonly #bytes: Uint8Array;

  constructor(id: string, bytes: Uint8Array) {
    const problem = modelKeyIdProblem(id);
    if (problem !== undefined)
      throw new CloisterError("model.key.id", `Invalid key ID: ${problem}`);
    if (bytes.length !== MODEL_KEY_BYTES)
      throw new CloisterError(
        "model.key.malformed",
        `Model key "${id}" must be ${MODEL_KEY_BYTES} bytes, not ${bytes.length}.`,
      );
    this.id = id;
    this.#bytes = Uint8Array.from(bytes);
  }

  /** A copy of the key bytes. */
  get bytes(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  toJSON(): { kid: string } {
    return { kid: this.id };
  }

  [inspect.custom](): string {
    return `ModelKey { id: ${JSON.stringify(this.id)} }`;
  }
}

/** Keys by ID, as the decryptor looks them up from a file's header. */
export type ModelKeyring = ReadonlyMap<string, ModelKey>;

/** A fresh random key from the operating system's CSPRNG. */
export function generateModelKey(id: string): ModelKey {
  return new ModelKey(id, randomBytes(MODEL_KEY_BYTES));
}

/** Builds a key ring; the same ID twice is refused (which key would a file mean?). */
export function modelKeyring(keys: Iterable<ModelKey>): ModelKeyring {
  const ring = new Map<string, ModelKey>();
  for (const key of keys) {
    if (ring.has(key.id))
      throw new CloisterError("model.key.duplicate", `Key ID "${key.id}" appears more than once.`);
    ring.set(key.id, key);
  }
  return ring;
}
