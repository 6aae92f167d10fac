import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { encodeCertTable, parseCertTable } from "../../../src/attest/snp/abi/cert-table.js";
import { parseReport, REPORT_SIZE } from "../../../src/attest/snp/abi/report.js";
import { mutate, mutation, parsedOrRefused } from "../../support/fuzz.js";
import { TESTVECTORS, VECTOR_INDEX } from "../../support/testvectors.js";

/** The parsers are total: see parsedOrRefused. */
const total = <T>(parse: (bytes: Uint8Array) => T, bytes: Uint8Array) =>
  parsedOrRefused(parse, bytes);

const read = (path: string) => new Uint8Array(readFileSync(`${TESTVECTORS}${path}`));
const reports = VECTOR_INDEX.filter((e) => e.tee === "sev-snp")
  .flatMap((e) => [e.files.report, e.files["report (derived)"]])
  .filter((path): path is string => path !== undefined)
  .map(read);
assert.ok(reports.length >= 10);

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
