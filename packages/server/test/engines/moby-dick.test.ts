import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadLlamaEngine } from "../../src/engines/llama.js";

const MODEL_DIR = new URL("../../models/moby-dick-char/", import.meta.url);

it("serves the committed Moby-Dick model: digest as in SHA256SUMS, printable greedy text", async () => {
  const sums = await readFile(new URL("SHA256SUMS", MODEL_DIR), "utf8");
  const listed = /^([0-9a-f]{64}) [ *]moby-dick-char\.gguf$/m.exec(sums)?.[1];
  assert.ok(listed, "SHA256SUMS lists moby-dick-char.gguf");

  const engine = await loadLlamaEngine({
    modelPath: fileURLToPath(new URL("moby-dick-char.gguf", MODEL_DIR)),
  });
  try {
    assert.equal(engine.id, "moby-dick-char");
    assert.equal(engine.digest, `sha256:${listed}`);
    const { text } = await engine.complete("Call me Ishmael", { maxTokens: 80, temperature: 0 });
    assert.ok(text.trim() !== "", "the completion is not empty");
    // Letters, digits, punctuation, spaces and newlines: no control or unassigned characters.
    assert.match(text, /^(?:[^\p{C}]|\n)+$/u);
  } finally {
    await engine.close();
  }
});
