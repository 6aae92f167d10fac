/**
 * The byte-level edits the fuzz tests make to real evidence, and the invariants they hold every
 * parser and verifier to. Positions wrap around the current length, so any edit applies to any
 * input, the empty one included.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Check } from "../../src/attest/types.js";
import { ParseError } from "../../src/errors.js";

/** Byte-level edits of a seed: overwrite, bit flip, truncate, extend, or splice a run. */
export const mutation = fc.oneof(
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("extend" as const), tail: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({
    op: fc.constant("splice" as const),
    at: fc.nat(),
    run: fc.uint8Array({ maxLength: 80 }),
  }),
);
export type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

/** The seed with every mutation applied in turn; the seed itself is left as it was. */
export function mutate(seed: Uint8Array, edits: readonly Mutation[]): Uint8Array {
  let bytes = seed.slice();
  for (const edit of edits) {
    const at = bytes.length === 0 ? 0 : ("at" in edit ? edit.at : 0) % bytes.length;
    if (edit.op === "set" && bytes.length > 0) bytes[at] = edit.value;
    else if (edit.op === "flip" && bytes.length > 0)
      bytes[at] = (bytes[at] as number) ^ (1 << edit.bit);
    else if (edit.op === "truncate") bytes = bytes.slice(0, at);
    else if (edit.op === "extend") {
      const longer = new Uint8Array(bytes.length + edit.tail.length);
      longer.set(bytes);
      longer.set(edit.tail, bytes.length);
      bytes = longer;
    } else if (edit.op === "splice") bytes.set(edit.run.subarray(0, bytes.length - at), at);
  }
  return bytes;
}

/**
 * One byte-level edit that may shift what follows it: flip a bit, set a byte (each weighted 4),
 * insert or delete up to 8 bytes, or truncate.
 */
export const byteEdit = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant("set" as const), at: fc.nat(), value: fc.nat(255) }),
  },
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    op: fc.constant("delete" as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
);
export type ByteEdit = typeof byteEdit extends fc.Arbitrary<infer E> ? E : never;

/** `bytes` with one edit applied, as a copy (or `bytes` itself where the edit is a no-op). */
export function applyEdit(bytes: Uint8Array, e: ByteEdit): Uint8Array {
  const at = bytes.length === 0 ? 0 : e.at % (bytes.length + (e.op === "insert" ? 1 : 0));
  switch (e.op) {
    case "flip": {
      if (bytes.length === 0) return bytes;
      const out = bytes.slice();
      out[at] = (out[at] as number) ^ (1 << e.bit);
      return out;
    }
    case "set": {
      if (bytes.length === 0) return bytes;
      const out = bytes.slice();
      out[at] = e.value;
      return out;
    }
    case "insert":
      return Uint8Array.from([...bytes.subarray(0, at), ...e.bytes, ...bytes.subarray(at)]);
    case "delete":
      return Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + e.count)]);
    case "truncate":
      return bytes.slice(0, at);
  }
}

/**
 * A parser held to totality: it returns, or throws a ParseError (whose code matches `code`,
 * where given) naming a field and an offset inside the input. A RangeError from a DataView or a
 * TypeError from an undefined index would escape every caller's error handling, so any other
 * throw is rethrown and fails the property. Undefined where the input was refused.
 */
export function parsedOrRefused<T>(
  parse: (bytes: Uint8Array) => T,
  bytes: Uint8Array,
  code?: RegExp,
): T | undefined {
  try {
    return parse(bytes);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    if (code !== undefined) assert.match(error.code, code);
    assert.ok(error.field.length > 0);
    assert.ok(error.offset !== undefined && error.offset >= 0 && error.offset <= bytes.length);
    return undefined;
  }
}

/** Every failed check carries a reason code of the verifier's own: none escaped from elsewhere. */
export function assertKnownFailures(checks: readonly Check[], prefixes: readonly string[]): void {
  for (const check of checks) {
    if (check.status !== "fail") continue;
    assert.ok(
      prefixes.some((prefix) => check.code.startsWith(prefix)),
      `unexpected failure code ${check.code}: ${check.message}`,
    );
  }
}
