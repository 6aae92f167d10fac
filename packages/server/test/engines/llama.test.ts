import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ChatEngine, GenerateOptions, Generation } from "../../src/engines/engine.js";
import { ContextOverflowError, loadLlamaEngine } from "../../src/engines/llama.js";
import { writeBigramModel } from "../support/bigram-model.js";

// Everything below follows from DEFAULT_BIGRAMS in ../support/bigram-model.ts.
const CONTEXT = 256;
const greedy = (maxTokens: number, more: Partial<GenerateOptions> = {}): GenerateOptions => ({
  maxTokens,
  temperature: 0,
  ...more,
});

/** Runs a generation and checks the streamed pieces against the final text. */
async function streamed(run: (onText: (piece: string) => void) => Promise<Generation>) {
  const pieces: string[] = [];
  const generation = await run((piece) => pieces.push(piece));
  assert.equal(pieces.join(""), generation.text, "streamed pieces concatenate to the text");
  for (const piece of pieces) {
    assert.notEqual(piece, "");
    assert.ok(!piece.includes("\uFFFD"), `piece ${JSON.stringify(piece)} holds a broken character`);
  }
  return { ...generation, pieces };
}

describe("llama engine (bigram model)", () => {
  const paths: string[] = [];
  let path: string;
  let engine: ChatEngine;

  before(async () => {
    path = await writeBigramModel();
    paths.push(path);
    engine = await loadLlamaEngine({ modelPath: path, gpu: false, contextSize: CONTEXT });
  });

  after(async () => {
    await engine.close();
    for (const p of paths) await rm(dirname(p), { recursive: true, force: true });
  });

  it("describes the model: id from the file name, streamed sha256 digest, context size", async () => {
    assert.equal(engine.kind, "chat");
    assert.equal(engine.id, "bigram");
    assert.equal(
      engine.digest,
      `sha256:${createHash("sha256")
        .update(await readFile(path))
        .digest("hex")}`,
    );
    assert.equal(engine.contextSize, CONTEXT);
  });

  it("decodes greedily and exactly, ending at the end-of-text token", async () => {
    const result = await engine.complete("h", greedy(10));
    // BOS + "h" in; "i", "!" and the end token out.
    assert.deepEqual(result, {
      text: "i!",
      finishReason: "stop",
      promptTokens: 2,
      completionTokens: 3,
    });
    assert.deepEqual(await engine.complete("h", greedy(10)), result);
  });

  it("stops at maxTokens with finishReason length", async () => {
    const result = await engine.complete("", greedy(7));
    assert.deepEqual(result, {
      text: "abcabca",
      finishReason: "length",
      promptTokens: 1,
      completionTokens: 7,
    });
  });

  it("caps the completion at the room left in the context instead of shifting it", async () => {
    const result = await engine.complete("", greedy(10_000));
    assert.equal(result.finishReason, "length");
    assert.equal(result.completionTokens, CONTEXT - 1);
    assert.equal(result.text, "abc".repeat(CONTEXT).slice(0, CONTEXT - 1));
  });

  it("samples from the model's distribution", async () => {
    const expected = { i: 0.5, e: 0.3, o: 0.2 };
    const samples = 300;
    const counts: Record<string, number> = { i: 0, e: 0, o: 0 };
    for (let seed = 0; seed < samples; seed++) {
      const { text } = await engine.complete("h", { maxTokens: 1, temperature: 1, seed });
      assert.ok(text in counts, `unexpected sample ${JSON.stringify(text)}`);
      counts[text] = (counts[text] as number) + 1;
    }
    // Pearson's chi-square with 2 degrees of freedom; 13.8 is the 0.1% critical value.
    const chi2 = Object.entries(expected).reduce((sum, [c, p]) => {
      const e = p * samples;
      return sum + ((counts[c] as number) - e) ** 2 / e;
    }, 0);
    assert.ok(
      chi2 < 13.8,
      `counts ${JSON.stringify(counts)} do not follow ${JSON.stringify(expected)}`,
    );
  });

  it("is deterministic for a fixed seed and honours topP", async () => {
    const draw = (seed: number, topP?: number) =>
      engine.complete("h", {
        maxTokens: 1,
        temperature: 1,
        seed,
        ...(topP === undefined ? {} : { topP }),
      });
    const first = await Promise.all(Array.from({ length: 20 }, (_, seed) => draw(seed)));
    const again = await Promise.all(Array.from({ length: 20 }, (_, seed) => draw(seed)));
    assert.deepEqual(
      again.map((g) => g.text),
      first.map((g) => g.text),
    );
    // P(i) = 0.5 < 0.6 <= P(i) + P(e): top-p 0.6 keeps "i" and "e" and never samples "o".
    const nucleus = new Set<string>();
    for (let seed = 0; seed < 60; seed++) nucleus.add((await draw(seed, 0.6)).text);
    assert.deepEqual([...nucleus].sort(), ["e", "i"]);
  });

  it("streams multi-byte characters whole", async () => {
    const result = await streamed((onText) => engine.complete("x", greedy(20, { onText })));
    assert.equal(result.text, "é…");
    assert.deepEqual(result.pieces, ["é", "…"]);
    // 2 + 3 byte tokens and the end token.
    assert.equal(result.completionTokens, 6);
    assert.equal(result.finishReason, "stop");

    // Cut inside "…" (after its first byte): the broken character is dropped, not sent.
    const cut = await streamed((onText) => engine.complete("x", greedy(3, { onText })));
    assert.equal(cut.text, "é");
    assert.equal(cut.finishReason, "length");
  });

  it("ends at a stop string without ever streaming any of it", async () => {
    const stopped = await streamed((onText) =>
      engine.complete("", greedy(50, { onText, stop: ["ca"] })),
    );
    assert.equal(stopped.text, "ab");
    assert.equal(stopped.finishReason, "stop");

    const earliest = await engine.complete("", greedy(50, { stop: ["abcabcab", "cab"] }));
    assert.equal(earliest.text, "ab");

    // Text held back as a possible stop string start is released when the string never comes.
    const released = await streamed((onText) =>
      engine.complete("", greedy(6, { onText, stop: ["cx"] })),
    );
    assert.equal(released.text, "abcabc");
    assert.equal(released.finishReason, "length");
  });

  it("refuses a prompt that leaves no room for a completion, without quoting it", async () => {
    const secret = "s".repeat(CONTEXT - 1);
    await assert.rejects(engine.complete(secret, greedy(5)), (error: unknown) => {
      assert.ok(error instanceof ContextOverflowError);
      assert.equal(error.code, "engine.context_overflow");
      assert.equal(error.promptTokens, CONTEXT);
      assert.equal(error.contextSize, CONTEXT);
      assert.ok(!error.message.includes("sss"));
      assert.match(error.message, /256 tokens/);
      return true;
    });
    // One token shorter leaves room for exactly one generated token.
    const fits = await engine.complete(secret.slice(1), greedy(5));
    assert.equal(fits.completionTokens, 1);
    assert.equal(fits.finishReason, "stop");
  });

  it("cancels promptly, rejects with the signal's reason and frees the sequence", async () => {
    const controller = new AbortController();
    const reason = new Error("client went away");
    const pieces: string[] = [];
    const running = engine.complete(
      "",
      greedy(CONTEXT, {
        signal: controller.signal,
        onText: (piece) => {
          pieces.push(piece);
          if (pieces.length === 3) controller.abort(reason);
        },
      }),
    );
    await assert.rejects(running, (error) => error === reason);
    assert.deepEqual(pieces, ["a", "b", "c"]);

    // The only sequence is free again.
    assert.equal((await engine.complete("h", greedy(5))).text, "i!");

    const aborted = AbortSignal.abort(reason);
    await assert.rejects(
      engine.complete("h", greedy(5, { signal: aborted })),
      (error) => error === reason,
    );
  });

  it("lets a queued request leave when its caller aborts", async () => {
    const holder = engine.complete("", greedy(CONTEXT));
    const controller = new AbortController();
    const queued = engine.complete("h", greedy(5, { signal: controller.signal }));
    controller.abort(new Error("gone"));
    await assert.rejects(queued, /gone/);
    assert.equal((await holder).completionTokens, CONTEXT - 1);
  });

  it("chats through a plain transcript when the model has no chat template", async () => {
    const result = await streamed((onText) =>
      engine.chat([{ role: "user", content: "hi" }], greedy(10, { onText })),
    );
    // BOS + "User: hi\nAssistant:"; the bigrams answer ":" with " ok" and the end token.
    assert.deepEqual(
      { text: result.text, finishReason: result.finishReason, promptTokens: result.promptTokens },
      { text: " ok", finishReason: "stop", promptTokens: 1 + "User: hi\nAssistant:".length },
    );
  });

  it("runs two generations at once on one model and queues a third", async () => {
    const parallelPath = await writeBigramModel({ name: "parallel" });
    paths.push(parallelPath);
    const parallel = await loadLlamaEngine({
      modelPath: parallelPath,
      gpu: false,
      contextSize: CONTEXT,
      parallel: 2,
    });
    try {
      const events: string[] = [];
      const long = (tag: string) =>
        parallel.complete("", greedy(60, { onText: (piece) => events.push(`${tag}${piece}`) }));
      const [a, b, c] = await Promise.all([
        long("A"),
        long("B"),
        parallel.complete("h", greedy(5, { onText: () => events.push("C") })),
      ]);
      assert.equal(a.text, "abc".repeat(20));
      assert.equal(b.text, a.text);
      assert.equal(c.text, "i!");
      // A and B advance together; C only starts once one of them has finished.
      const lastA = events.lastIndexOf("Ac");
      const firstB = events.indexOf("Ba");
      assert.ok(firstB < lastA, "the two generations interleave");
      assert.ok(events.indexOf("C") > Math.min(lastA, events.lastIndexOf("Bc")));
    } finally {
      await parallel.close();
    }
  });

  it("uses the model's own chat template when it has one", async () => {
    const chatml =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n'}}" +
      "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    const templatedPath = await writeBigramModel({ name: "templated", chatTemplate: chatml });
    paths.push(templatedPath);
    const templated = await loadLlamaEngine({
      modelPath: templatedPath,
      gpu: false,
      contextSize: CONTEXT,
    });
    try {
      const rendered = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n";
      const result = await templated.chat([{ role: "user", content: "hi" }], greedy(10));
      // BOS (the template has none, the model asks for it) + the rendered bytes; "\n" ends the text.
      assert.deepEqual(result, {
        text: "",
        finishReason: "stop",
        promptTokens: 1 + rendered.length,
        completionTokens: 1,
      });
    } finally {
      await templated.close();
    }
  });

  it("follows a caller-chosen distribution", async () => {
    const customPath = await writeBigramModel({
      name: "custom",
      bigrams: { "": { "¡": 1 }, "¡": { z: 1 }, z: { "": 1 } },
    });
    paths.push(customPath);
    const custom = await loadLlamaEngine({
      modelPath: customPath,
      gpu: false,
      contextSize: CONTEXT,
    });
    try {
      assert.deepEqual(await custom.complete("", greedy(10)), {
        text: "¡z",
        finishReason: "stop",
        promptTokens: 1,
        completionTokens: 4,
      });
    } finally {
      await custom.close();
    }
    // "é" and "ü" share their first byte, so "x" cannot continue with either at that byte.
    await assert.rejects(writeBigramModel({ bigrams: { x: { é: 0.5, ü: 0.5 } } }), /Conflicting/);
  });

  it("refuses work once closed", async () => {
    const closingPath = await writeBigramModel({ name: "closing" });
    paths.push(closingPath);
    const closing = await loadLlamaEngine({
      modelPath: closingPath,
      gpu: false,
      contextSize: CONTEXT,
    });
    await closing.close();
    await closing.close();
    await assert.rejects(closing.complete("h", greedy(5)), { code: "engine.closed" });
  });
});
