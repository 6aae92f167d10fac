import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "@cloister/client";
import { startTestWorkload } from "./support/workload.js";

test("a caller that goes away stops generation and frees the engine for the next request", async () => {
  // One generation slot: if the abandoned generation kept running, the next request would wait for it.
  const t = await startTestWorkload({ parallel: 1 });
  try {
    const session = await connect(t.workload.url, { policy: t.policy });
    const abort = new AbortController();
    const response = await session.fetch(new URL("/v1/completions", t.workload.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      // "abcabc…" never ends by itself; 100000 tokens would take many seconds.
      body: JSON.stringify({
        model: "bigram",
        prompt: "c",
        max_tokens: 100_000,
        temperature: 0,
        stream: true,
      }),
      signal: abort.signal,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    assert.equal(first.done, false);
    abort.abort();
    const started = Date.now();
    const next = await session.fetch(new URL("/v1/completions", t.workload.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "bigram", prompt: "h", max_tokens: 5, temperature: 0 }),
    });
    assert.equal(((await next.json()) as { choices: { text: string }[] }).choices[0]?.text, "i!");
    assert.ok(
      Date.now() - started < 5000,
      "the next request did not wait for the abandoned generation",
    );
  } finally {
    await t.close();
  }
});

test("when the workload restarts with a new key, the session re-attests and retries", async () => {
  const first = await startTestWorkload();
  const port = Number(new URL(first.workload.url).port);
  const session = await connect(first.workload.url, { policy: first.policy });
  const firstKeys = session.manifest.ohttpKeys;
  await first.workload.close();
  // Same address, same simulated root (same config directory), new OHTTP and receipt keys.
  const second = await startTestWorkload({ port, configDir: first.configDir });
  try {
    const response = await session.fetch(new URL("/v1/models", first.workload.url));
    assert.equal(response.status, 200);
    assert.notEqual(session.manifest.ohttpKeys, firstKeys);
  } finally {
    await second.close();
    await first.close();
  }
});
