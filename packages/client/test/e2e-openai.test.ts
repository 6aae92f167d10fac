import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect, type Session } from "@cloister/client";
import {
  AEAD_AES_256_GCM,
  AEAD_CHACHA20_POLY1305,
  KDF_HKDF_SHA256,
  type ReceiptBody,
} from "@cloister/core";
import OpenAI from "openai";
import { assertBigramAnswers } from "./support/bigram-answers.js";
import { startTestWorkload, type TestWorkload } from "./support/workload.js";

let t: TestWorkload;
let session: Session;
let openai: OpenAI;
const receipts: ReceiptBody[] = [];

before(async () => {
  t = await startTestWorkload({ embeddings: true });
  session = await connect(t.workload.url, { policy: t.policy, onReceipt: (r) => receipts.push(r) });
  openai = new OpenAI({
    baseURL: `${t.workload.url}/v1`,
    apiKey: "not-checked-yet",
    fetch: session.fetch,
  });
});
after(() => t.close());

test("the session verifies the simulated workload and says it is insecure", () => {
  assert.equal(session.attestation.verdict, "warning");
  assert.equal(session.attestation.insecure, true);
  const byCode = new Map(session.attestation.checks.map((c) => [c.code, c.status]));
  assert.equal(byCode.get("evidence.signature"), "pass");
  assert.equal(byCode.get("binding.report_data"), "pass");
  assert.equal(byCode.get("binding.nonce"), "pass");
  assert.equal(byCode.get("platform.simulated"), "warn");
});

test("chat completion through the official openai client, sealed with OHTTP", async () => {
  const before = receipts.length;
  const reply = await openai.chat.completions.create({
    model: "bigram",
    messages: [{ role: "user", content: "hello" }],
    temperature: 0,
    max_tokens: 10,
  });
  // The bigram model answers the plain-text chat prompt (ending "Assistant:") with " ok", then stops.
  assert.equal(reply.choices[0]?.message.content, " ok");
  assert.equal(reply.choices[0]?.finish_reason, "stop");
  assert.equal(reply.model, "bigram");
  assert.ok((reply.usage?.completion_tokens ?? 0) > 0);
  assert.equal(receipts.length, before + 1);
  const model = t.workload.manifest.models.find((m) => m.id === "bigram");
  assert.equal(receipts.at(-1)?.model, model?.digest);
  assert.equal(receipts.at(-1)?.status, 200);
});

test("streamed chat completion: chunks arrive one by one and concatenate to the answer", async () => {
  const receiptsBefore = receipts.length;
  const stream = await openai.chat.completions.create({
    model: "bigram",
    messages: [{ role: "user", content: "hello" }],
    temperature: 0,
    max_tokens: 10,
    stream: true,
    stream_options: { include_usage: true },
  });
  const pieces: string[] = [];
  let finish: string | null | undefined;
  let usage: unknown;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (choice?.delta.content) pieces.push(choice.delta.content);
    if (choice?.finish_reason) finish = choice.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(pieces.length >= 2, "more than one sealed chunk carried text");
  assert.equal(pieces.join(""), " ok");
  assert.equal(finish, "stop");
  assert.ok(usage !== undefined);
  // The SDK reads the stream to its end, where the receipt arrives and is verified.
  assert.equal(receipts.length, receiptsBefore + 1);
});

test("legacy completions, streamed and not, with max_tokens and stop", async () => {
  const whole = await openai.completions.create({
    model: "bigram",
    prompt: "h",
    temperature: 0,
    max_tokens: 5,
  });
  assert.equal(whole.choices[0]?.text, "i!");
  const limited = await openai.completions.create({
    model: "bigram",
    prompt: "a",
    temperature: 0,
    max_tokens: 4,
  });
  assert.equal(limited.choices[0]?.text, "bcab");
  assert.equal(limited.choices[0]?.finish_reason, "length");
  const stream = await openai.completions.create({
    model: "bigram",
    prompt: "a",
    temperature: 0,
    max_tokens: 20,
    stop: ["ca"],
    stream: true,
  });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
  assert.equal(text, "b");
});

test("embeddings: 512-d vectors where related sentences score higher than unrelated ones", async () => {
  const sentences = [
    "The whale swam through the cold ocean.",
    "A huge marine mammal was swimming in the sea.",
    "Quarterly earnings beat the analysts' forecasts.",
  ];
  const result = await openai.embeddings.create({ model: "use-lite-512", input: sentences });
  assert.equal(result.data.length, 3);
  const [whale, mammal, earnings] = result.data.map((d) => d.embedding);
  assert.equal(whale?.length, 512);
  const cosine = (a: number[], b: number[]) => {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += (a[i] as number) * (b[i] as number);
      na += (a[i] as number) ** 2;
      nb += (b[i] as number) ** 2;
    }
    return dot / Math.sqrt(na * nb);
  };
  const related = cosine(whale as number[], mammal as number[]);
  const unrelated = cosine(whale as number[], earnings as number[]);
  assert.ok(related > unrelated + 0.2, `related ${related} vs unrelated ${unrelated}`);
  // Float encoding gives the same vectors as the SDK's default base64.
  const floats = await openai.embeddings.create({
    model: "use-lite-512",
    input: sentences[0] as string,
    encoding_format: "float",
  });
  assert.ok(Math.abs((floats.data[0]?.embedding[0] as number) - (whale?.[0] as number)) < 1e-6);
});

test("models list and OpenAI-shaped errors come back through the channel", async () => {
  const models = await openai.models.list();
  assert.deepEqual(
    models.data.map((m) => m.id),
    ["bigram", "use-lite-512"],
  );
  await assert.rejects(
    openai.chat.completions.create({
      model: "no-such-model",
      messages: [{ role: "user", content: "hi" }],
    }),
    (error: unknown) =>
      error instanceof OpenAI.NotFoundError && /not served here/.test(error.message),
  );
  await assert.rejects(
    openai.chat.completions.create({ model: "bigram", messages: [] }),
    (error: unknown) => error instanceof OpenAI.BadRequestError && /messages/.test(error.message),
  );
});

test("receipts carry increasing sequence numbers and name this manifest", () => {
  const seqs = receipts.map((r) => r.seq);
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
  );
  assert.equal(new Set(receipts.map((r) => r.manifest)).size, 1);
});

test("requests can be sealed with AES-256-GCM or ChaCha20-Poly1305 instead", async () => {
  for (const aeadId of [AEAD_AES_256_GCM, AEAD_CHACHA20_POLY1305]) {
    const other = await connect(t.workload.url, {
      policy: t.policy,
      suite: { kdfId: KDF_HKDF_SHA256, aeadId },
    });
    await assertBigramAnswers(
      new OpenAI({ baseURL: `${t.workload.url}/v1`, apiKey: "unused", fetch: other.fetch }),
    );
  }
});
