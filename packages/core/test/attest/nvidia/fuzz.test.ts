import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { equalBytes } from "../../../src/bytes.js";
import { CloisterError } from "../../../src/errors.js";
import { parseGpuEvidence, parseGpuEvidenceInput, verifyGpuEvidence } from "../../../src/index.js";
import { NOW, SAMPLE, vectorText } from "./support.js";

const [input] = parseGpuEvidenceInput(vectorText(SAMPLE, "report_hex"));
if (input === undefined) throw new Error("the sample did not load");
const ORIGINAL = input.evidence;
const CHAIN = vectorText(SAMPLE, "cert_chain");
const NONCE = ORIGINAL.slice(4, 36);
const RUNS = 10_000;

/** Byte flips anywhere, biased to the headers and length fields where parsing decides. */
const offset = fc.oneof(
  fc.integer({ min: 0, max: 48 }),
  fc.integer({ min: 3557, max: 3600 }),
  fc.integer({ min: 0, max: ORIGINAL.length - 1 }),
);

const mutation = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .array(fc.tuple(offset, fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 })
      .map((flips) => (bytes: Uint8Array) => {
        const out = bytes.slice();
        for (const [at, xor] of flips) out[at] = (out[at] as number) ^ xor;
        return out;
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 0, max: ORIGINAL.length - 1 })
      .map((length) => (bytes: Uint8Array) => bytes.slice(0, length)),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(offset, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(
      ([at, extra]) =>
        (bytes: Uint8Array) =>
          Uint8Array.from([...bytes.subarray(0, at), ...extra, ...bytes.subarray(at)]),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(offset, fc.integer({ min: 1, max: 8 })).map(
      ([at, count]) =>
        (bytes: Uint8Array) =>
          Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + count)]),
    ),
  },
);

describe("NVIDIA evidence fuzz", () => {
  // About 17 s on a developer machine: most mutations parse and cost one P-384 verification.
  it(`${RUNS} mutated evidences: typed errors only, and none verifies`, {
    timeout: 60_000,
  }, async () => {
    let parsed = 0;
    await fc.assert(
      fc.asyncProperty(mutation, async (mutate) => {
        const bytes = mutate(ORIGINAL);
        let evidence: ReturnType<typeof parseGpuEvidence>;
        try {
          evidence = parseGpuEvidence(bytes);
        } catch (error) {
          assert.ok(error instanceof CloisterError, `untyped: ${String(error)}`);
          return;
        }
        parsed++;
        const result = await verifyGpuEvidence(evidence, CHAIN, { now: NOW, nonce: NONCE });
        if (result.claims !== undefined)
          assert.ok(equalBytes(bytes, ORIGINAL), "a mutation verified");
        if (!equalBytes(bytes, ORIGINAL)) {
          assert.ok(result.checks.some((c) => c.status === "fail"));
        }
      }),
      { numRuns: RUNS },
    );
    assert.ok(parsed > RUNS / 4, `only ${parsed} mutations parsed: the fuzz reaches too little`);
  });
});
