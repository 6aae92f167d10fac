import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { assertBigramAnswers } from "../../../client/test/support/bigram-answers.js";
import { startTestWorkload, type TestWorkload } from "../../../client/test/support/workload.js";

let t: TestWorkload;
before(async () => {
  t = await startTestWorkload({ insecurePlaintext: true });
});
after(() => t.close());

test("--insecure-plaintext serves the same OpenAI routes without encryption", async () => {
  const openai = new OpenAI({ baseURL: `${t.workload.url}/v1`, apiKey: "unused" });
  await assertBigramAnswers(openai);
});

test("the manifest's configuration digest differs when plaintext routes are on", async () => {
  const secure = await startTestWorkload();
  try {
    assert.notEqual(secure.workload.manifest.config, t.workload.manifest.config);
  } finally {
    await secure.close();
  }
});
