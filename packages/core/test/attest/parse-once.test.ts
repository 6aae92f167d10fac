import assert from "node:assert/strict";
import { test } from "node:test";
import { parseOnce } from "../../src/attest/parse-once.js";

test("each distinct input is parsed once; text and bytes are distinct; failures are not kept", () => {
  const calls: string[] = [];
  const parse = parseOnce((input) => {
    const text = typeof input === "string" ? input : new TextDecoder().decode(input);
    calls.push(text);
    if (text === "bad") throw new Error("refused");
    return { text };
  });
  const first = parse("ab");
  assert.equal(parse("ab"), first);
  assert.equal(parse(new Uint8Array([0x61, 0x62])).text, "ab");
  assert.deepEqual(calls, ["ab", "ab"]);
  assert.throws(() => parse("bad"));
  assert.throws(() => parse("bad"));
  assert.deepEqual(calls, ["ab", "ab", "bad", "bad"]);
});
