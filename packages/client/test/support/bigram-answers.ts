import assert from "node:assert/strict";
import type OpenAI from "openai";

/**
 * The bigram test model's known answers (see DEFAULT_BIGRAMS), asked through whatever OpenAI
 * client a test built: a whole chat completion and a streamed legacy completion.
 */
export async function assertBigramAnswers(openai: OpenAI): Promise<void> {
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
}
