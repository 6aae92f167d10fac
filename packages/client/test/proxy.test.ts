import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect } from "@cloister/client";
import { type RunningProxy, startProxy } from "@cloister/client/proxy";
import { CloisterError } from "@cloister/core";
import OpenAI from "openai";
import { startTestWorkload, type TestWorkload } from "./support/workload.js";

let t: TestWorkload;
let proxy: RunningProxy;
let openai: OpenAI;
before(async () => {
  t = await startTestWorkload({ embeddings: true });
  const session = await connect(t.workload.url, { policy: t.policy });
  proxy = await startProxy({ session, host: "127.0.0.1", port: 0 });
  // An unmodified OpenAI client: it only knows the proxy's plaintext loopback URL.
  openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: "unused" });
});
after(async () => {
  await proxy.close();
  await t.close();
});

test("the official openai client works unchanged through cloister proxy: chat", async () => {
  const reply = await openai.chat.completions.create({
    model: "bigram",
    messages: [{ role: "user", content: "hi" }],
    temperature: 0,
  });
  assert.equal(reply.choices[0]?.message.content, " ok");
});

test("the official openai client works unchanged through cloister proxy: streaming chat", async () => {
  const stream = await openai.chat.completions.create({
    model: "bigram",
    messages: [{ role: "user", content: "hi" }],
    temperature: 0,
    stream: true,
  });
  const pieces: string[] = [];
  for await (const chunk of stream) pieces.push(chunk.choices[0]?.delta.content ?? "");
  assert.equal(pieces.join(""), " ok");
});

test("the official openai client works unchanged through cloister proxy: embeddings", async () => {
  const result = await openai.embeddings.create({
    model: "use-lite-512",
    input: ["a whale", "the sea"],
  });
  assert.equal(result.data.length, 2);
  assert.equal(result.data[0]?.embedding.length, 512);
});

test("the proxy refuses to listen beyond loopback unless forced", async () => {
  const session = await connect(t.workload.url, { policy: t.policy });
  await assert.rejects(
    startProxy({ session, host: "0.0.0.0", port: 0 }),
    (error: unknown) => error instanceof CloisterError && error.code === "proxy.non_loopback",
  );
});
