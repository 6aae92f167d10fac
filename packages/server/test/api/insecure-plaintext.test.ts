import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { startTestWorkload, type TestWorkload } from "../../../client/test/support/workload.js";

let t: TestWorkload;
before(async () => {
  t = await startTestWorkload({ insecurePlaintext: true });
});
after(() => t.close());

test("--insecure-plaintext serves the same OpenAI routes without encryption", async () => {
  const openai = new OpenAI({ baseURL: `${t.workload.url}/v1`, apiKey: "unused" });
  const reply = await openai.chat.completions.create({
    model: "bigram",
    messages: [{ role: "user", content: "hi" }],
    temperature: 0,
  });
  assert.equal(reply.choices[0]?.message.content, " ok");
  const stream = await openai.completions.create({
    model: "bigram",
    prompt: "h",
    temperature: 0,
    stream: true,
  });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
  assert.equal(text, "i!");
});

test("the manifest's configuration digest differs when plaintext routes are on", async () => {
  const secure = await startTestWorkload();
  try {
    assert.notEqual(secure.workload.manifest.config, t.workload.manifest.config);
  } finally {
    await secure.close();
  }
});
