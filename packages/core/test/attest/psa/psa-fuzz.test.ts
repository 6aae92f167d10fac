import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import {
  PSA_COLLATERAL,
  PSA_TOKEN_FORMAT,
  parsePsaToken,
  psaVerifier,
} from "../../../src/attest/psa/index.js";
import type { VerifyContext } from "../../../src/attest/types.js";
import { equalBytes } from "../../../src/bytes.js";
import { CloisterError } from "../../../src/errors.js";
import { TESTVECTORS, VECTOR_INDEX } from "../../support/testvectors.js";

/**
 * The verifier is total and unforgeable by byte edits: whatever the bytes, it returns or throws a
 * CloisterError (anything else escaping is a bug), and claims come back only for a token whose
 * signed parts (protected header, payload, signature) are exactly a real token's. Seeds are every
 * PSA token in index.json, with the real TF-M key as endorsement.
 */

const read = (path: string) => new Uint8Array(readFileSync(`${TESTVECTORS}${path}`));
const entries = VECTOR_INDEX.filter((e) => e.tee === "psa");
const SEEDS = entries.flatMap((e) =>
  Object.entries(e.files)
    .filter(([, path]) => path.endsWith(".bin"))
    .map(([, path]) => read(path)),
);
const KEY = entries.map((e) => e.files.key).find((k) => k !== undefined) as string;
const CONTEXT: VerifyContext = {
  now: new Date("2025-01-01T00:00:00Z"),
  collateral: { [PSA_COLLATERAL.endorsements]: readFileSync(`${TESTVECTORS}${KEY}`, "utf8") },
  simulatedRoots: [],
};
const SIGNED = SEEDS.map((seed) => parsePsaToken(seed)).flatMap((t) =>
  t.kind === "sign1" ? [t.sign1] : [],
);

const stats = { runs: 0, verified: 0, byCode: new Map<string, number>() };

async function check(data: Uint8Array): Promise<void> {
  stats.runs++;
  try {
    const { claims } = await psaVerifier.verify(
      { platform: "psa", format: PSA_TOKEN_FORMAT, data },
      CONTEXT,
    );
    const token = parsePsaToken(data);
    assert.ok(token.kind === "sign1");
    const same = SIGNED.some(
      (s) =>
        equalBytes(s.protectedBytes, token.sign1.protectedBytes) &&
        equalBytes(s.payload, token.sign1.payload) &&
        equalBytes(s.signature, token.sign1.signature),
    );
    assert.ok(same, "claims for a token whose signed parts were edited");
    assert.equal(claims.platform, "psa");
    stats.verified++;
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
    assert.match(error.code, /^psa\./, error.code);
    stats.byCode.set(error.code, (stats.byCode.get(error.code) ?? 0) + 1);
  }
}

const mutated = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
    fc.option(fc.tuple(fc.nat(), fc.nat()), { freq: 4 }),
  )
  .map(([seed, flips, cut]) => {
    const bytes = seed.slice();
    for (const [at, xor] of flips)
      bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ xor;
    if (cut === null) return bytes;
    const [from, length] = cut;
    const start = from % bytes.length;
    return new Uint8Array([...bytes.subarray(0, start), ...bytes.subarray(start + (length % 8))]);
  });

test("random and mutated tokens: only CloisterErrors, and no claims for an edited token", async () => {
  const started = Date.now();
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), (data) => check(data)),
    { numRuns: 3000 },
  );
  await fc.assert(
    fc.asyncProperty(mutated, (data) => check(data)),
    { numRuns: 8000 },
  );
  for (const seed of SEEDS) await check(seed);
  assert.ok(stats.runs >= 10_000);
  // The mutations reach the signature check, not only the parser.
  assert.ok(
    (stats.byCode.get("psa.token.signature") ?? 0) > 100,
    JSON.stringify([...stats.byCode]),
  );
  assert.ok(stats.verified >= 3);
  assert.ok(Date.now() - started < 10_000, `${Date.now() - started} ms`);
});
