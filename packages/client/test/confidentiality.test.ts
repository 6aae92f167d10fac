import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect } from "@cloister/client";
import OpenAI from "openai";
import { startTcpRelay, type TcpRelay } from "./support/tcp-relay.js";
import { startTestWorkload, type TestWorkload } from "./support/workload.js";

let t: TestWorkload;
let relay: TcpRelay;
before(async () => {
  t = await startTestWorkload({ embeddings: true });
  relay = await startTcpRelay(new URL(t.workload.url));
});
after(async () => {
  await relay.close();
  await t.close();
});

const CANARY = "CANARY-7f3a9c-the-patient-record-says-ok";

/**
 * Everything between the client and the workload passes through a TCP relay that records it.
 * Neither the prompt nor the answer may appear in those bytes, streamed or not.
 */
test("neither a canary prompt nor the completion crosses the network in the clear", async () => {
  const session = await connect(relay.url, { policy: t.policy });
  const openai = new OpenAI({
    baseURL: `${relay.url}/v1`,
    apiKey: "sk-canary-api-key-123",
    fetch: session.fetch,
  });

  // "abcabc…" is what the bigram model writes after a prompt ending in "c"; long enough to be unmistakable.
  const whole = await openai.completions.create({
    model: "bigram",
    prompt: `${CANARY} c`,
    temperature: 0,
    max_tokens: 24,
  });
  const wholeText = whole.choices[0]?.text ?? "";
  assert.equal(wholeText, "abcabcabcabcabcabcabcabc");

  const stream = await openai.completions.create({
    model: "bigram",
    prompt: `${CANARY} c`,
    temperature: 0,
    max_tokens: 24,
    stream: true,
  });
  let streamedText = "";
  for await (const chunk of stream) streamedText += chunk.choices[0]?.text ?? "";
  assert.equal(streamedText, wholeText);

  const chat = await openai.chat.completions.create({
    model: "bigram",
    messages: [{ role: "user", content: CANARY }],
    stream: true,
    temperature: 0,
  });
  for await (const _ of chat) {
    // drain
  }
  await openai.embeddings.create({ model: "use-lite-512", input: CANARY });

  const wire = relay.captured();
  assert.ok(wire.length > 2000, "the relay saw the traffic");
  assert.ok(wire.includes("/v1/ohttp"), "the relay saw the gateway requests");
  // Model ids are public (they are in the manifest); the request paths and everything in bodies are not.
  for (const secret of [
    CANARY,
    "sk-canary-api-key-123",
    wholeText,
    "abcabcabc",
    "chat/completions",
  ]) {
    for (const encoding of ["utf8", "base64", "hex"] as const) {
      assert.equal(
        wire.includes(Buffer.from(secret).toString(encoding)),
        false,
        `${secret} (${encoding}) leaked onto the wire`,
      );
    }
  }
});
