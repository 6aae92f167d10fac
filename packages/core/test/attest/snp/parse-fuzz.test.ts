import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { encodeCertTable, parseCertTable } from "../../../src/attest/snp/abi/cert-table.js";
import { parseReport, REPORT_SIZE } from "../../../src/attest/snp/abi/report.js";
import { ParseError } from "../../../src/errors.js";
import { TESTVECTORS, VECTOR_INDEX } from "../../support/testvectors.js";

/**
 * The parsers are total: whatever the bytes, they return or throw a ParseError that names a
 * field and an offset inside the input. A RangeError from a DataView or a TypeError from an
 * undefined index would escape every caller's error handling, so any other throw fails.
 */
function total<T>(parse: (bytes: Uint8Array) => T, bytes: Uint8Array): T | undefined {
  try {
    return parse(bytes);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    assert.ok(error.field.length > 0);
    assert.ok(error.offset !== undefined && error.offset >= 0 && error.offset <= bytes.length);
    return undefined;
  }
}

const read = (path: string) => new Uint8Array(readFileSync(`${TESTVECTORS}${path}`));
const reports = VECTOR_INDEX.filter((e) => e.tee === "sev-snp")
  .flatMap((e) => [e.files.report, e.files["report (derived)"]])
  .filter((path): path is string => path !== undefined)
  .map(read);
assert.ok(reports.length >= 10);

/** Byte-level edits of a seed: overwrite, bit flip, truncate, extend, or splice a run. */
const mutation = fc.oneof(
  fc.record({
    op: fc.constant("set" as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    op: fc.constant("flip" as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("extend" as const), tail: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({
    op: fc.constant("splice" as const),
    at: fc.nat(),
    run: fc.uint8Array({ maxLength: 80 }),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(seed: Uint8Array, edits: readonly Mutation[]): Uint8Array {
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

test("parseReport is total on random bytes and on mutations of real reports", () => {
  let parsed = 0;
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 1300 }),
        fc.uint8Array({ minLength: REPORT_SIZE, maxLength: REPORT_SIZE }),
      ),
      (bytes) => {
        total(parseReport, bytes);
      },
    ),
    { numRuns: 5000 },
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...reports),
      fc.array(mutation, { minLength: 1, maxLength: 6 }),
      (seed, edits) => {
        const bytes = mutate(seed, edits);
        const report = total(parseReport, bytes);
        if (report === undefined) return;
        parsed++;
        assert.equal(report.bytes.length, REPORT_SIZE);
        assert.equal(report.signature.r.length, 48);
        assert.equal(report.signature.s.length, 48);
        assert.ok(report.vmpl <= 3);
      },
    ),
    { numRuns: 5000 },
  );
  // Most single-byte edits leave a well-formed report: the mutations reach past the header.
  assert.ok(parsed > 1000, `only ${parsed} mutated reports parsed`);
});

test("parseCertTable is total on random bytes and on mutations of a real table", () => {
  const vcek = read("sev-snp/go-sev-guest-milan/vcek.der");
  const table = encodeCertTable([
    { kind: "vcek", data: vcek },
    { kind: "ask", data: vcek.subarray(0, 300) },
    { kind: "ark", data: vcek.subarray(300, 600) },
    { guid: "0123abcd-0000-4000-8000-00000000beef", data: new Uint8Array([1, 2, 3]) },
  ]);
  // Short tables, so that random entries sometimes point inside the buffer.
  const smallTable = encodeCertTable([
    { kind: "vcek", data: new Uint8Array([0x30, 0]) },
    { kind: "ask", data: new Uint8Array([0x30, 1]) },
  ]);
  let parsed = 0;
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      total(parseCertTable, bytes);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.constantFrom(table, smallTable),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      (seed, edits) => {
        const entries = total(parseCertTable, mutate(seed, edits));
        if (entries !== undefined) parsed++;
      },
    ),
    { numRuns: 3000 },
  );
  assert.ok(parsed > 300, `only ${parsed} mutated tables parsed`);
});
