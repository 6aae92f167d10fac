import { fileURLToPath } from "node:url";

/**
 * The embedded chat model: a character-level llama trained on Moby-Dick, shipped with this
 * package (see models/moby-dick-char/MODEL_CARD.md). Its output is nonsense by design.
 */
export const DEFAULT_CHAT_MODEL_PATH = fileURLToPath(
  new URL("../../models/moby-dick-char/moby-dick-char.gguf", import.meta.url),
);
