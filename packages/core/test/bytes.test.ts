import assert from "node:assert/strict";
import { test } from "node:test";
import { fromBase64Url, fromHex, toBase64Url, toHex } from "@cloister/core";
import fc from "fast-check";

test("hex and base64url round-trip any bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      assert.deepEqual(fromHex(toHex(bytes)), bytes);
      assert.deepEqual(fromBase64Url(toBase64Url(bytes)), bytes);
    }),
  );
});

test("malformed hex and base64url are rejected, not guessed", () => {
  assert.equal(fromHex("abc"), undefined);
  assert.equal(fromHex("zz"), undefined);
  assert.equal(fromBase64Url("a+b/"), undefined);
  assert.equal(fromBase64Url("a"), undefined);
});
