import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { decode, encode, Tag } from "cbor2";
import fc from "fast-check";
import { CCA_COLLATERAL, CCA_TOKEN_FORMAT } from "../../../src/attest/cca/formats.js";
import { ccaVerifier } from "../../../src/attest/cca/verify.js";
import { CloisterError } from "../../../src/errors.js";
import { TESTVECTORS, VECTOR_INDEX } from "../../support/testvectors.js";

/**
 * CCA verification is total and unforgeable by edits: whatever the bytes, ccaVerifier.verify
 * either returns claims or throws a CloisterError (anything else escaping is a bug), and no edit
 * to a real token, whether to its bytes or to one claim re-encoded in place, yields claims. Every
 * byte of a token is either envelope framing or covered by one of the two COSE signatures, so
 * any change must fail. Seeds are every CCA token in index.json with the CPAK its entry ships.
 */

const read = (path: string) => readFileSync(`${TESTVECTORS}${path}`);

interface Seed {
  readonly id: string;
  readonly token: Uint8Array;
  readonly anchors: string;
}

const SEEDS: readonly Seed[] = VECTOR_INDEX.filter((e) => e.tee === "cca").map((e) => {
  const f = e.files;
  const anchors = f.cpak_pem ?? f.cpak ?? f.ta_ok ?? f.trust_anchors ?? "";
  return {
    id: e.id,
    token: new Uint8Array(read(f.token ?? "")),
    anchors: read(anchors).toString(),
  };
});

/** Claims for `token`, or the CloisterError code it was refused with; any other throw fails. */
async function outcome(token: Uint8Array, anchors: string): Promise<"claims" | string> {
  try {
    await ccaVerifier.verify(
      { platform: "cca", format: CCA_TOKEN_FORMAT, data: token },
      {
        now: new Date(0),
        collateral: { [CCA_COLLATERAL.platformKeys]: anchors },
        simulatedRoots: [],
      },
    );
    return "claims";
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
    return error.code;
  }
}

const seed = fc.constantFrom(...SEEDS);

type Edit =
  | { kind: "flip"; at: number; mask: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; length: number }
  | { kind: "truncate"; at: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    mask: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant("delete" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 16 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
);

function apply(bytes: Uint8Array, e: Edit): Uint8Array {
  const at = e.at % (bytes.length + 1);
  switch (e.kind) {
    case "flip": {
      if (bytes.length === 0) return bytes;
      const copy = bytes.slice();
      const i = at % bytes.length;
      copy[i] = (copy[i] ?? 0) ^ e.mask;
      return copy;
    }
    case "insert":
      return new Uint8Array([...bytes.subarray(0, at), ...e.bytes, ...bytes.subarray(at)]);
    case "delete":
      return new Uint8Array([...bytes.subarray(0, at), ...bytes.subarray(at + e.length)]);
    case "truncate":
      return bytes.subarray(0, at);
  }
}

const differs = (a: Uint8Array, b: Uint8Array) =>
  a.length !== b.length || a.some((byte, i) => byte !== b[i]);

/** A claim of one of the two tokens replaced by an arbitrary CBOR value, re-encoded in place. */
function replaceClaim(token: Uint8Array, realm: boolean, pick: number, value: unknown): Uint8Array {
  const outer = decode(token, { preferMap: true }) as Tag;
  const collection = new Map(outer.contents as Map<number, unknown>);
  const key = realm ? 44241 : 44234;
  const cmw = outer.tag === 907;
  const entry = collection.get(key) as Uint8Array | [number, Uint8Array];
  const signed = cmw ? (entry as [number, Uint8Array])[1] : (entry as Uint8Array);
  const sign1 = decode(signed, { preferMap: true }) as Tag;
  const [protectedBytes, unprotected, payload, signature] = sign1.contents as [
    Uint8Array,
    unknown,
    Uint8Array,
    Uint8Array,
  ];
  const claims = decode(payload, { preferMap: true }) as Map<number, unknown>;
  const keys = [...claims.keys()];
  const claim = keys[pick % keys.length] as number;
  claims.set(claim, value);
  const resigned = encode(new Tag(18, [protectedBytes, unprotected, encode(claims), signature]));
  collection.set(key, cmw ? [263, resigned] : resigned);
  return encode(new Tag(outer.tag, collection));
}

const cborValue = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 100 }),
  fc.array(fc.uint8Array({ maxLength: 70 }), { maxLength: 5 }),
  fc.constantFrom(null, true, 12291, 0x4000, 0x7fff, "sha-256", "sha-512", "sha-1"),
);

test("seeds: every valid CCA token verifies, so edits start from authentic evidence", async () => {
  for (const s of SEEDS) {
    const expected = s.id === "cca/bug-33-binding-failure" ? "cca.binding" : "claims";
    assert.equal(await outcome(s.token, s.anchors), expected, s.id);
  }
});

test("random bytes are refused with a CloisterError", async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 1500 }), async (bytes) => {
      assert.notEqual(await outcome(bytes, SEEDS[0]?.anchors ?? ""), "claims");
    }),
    { numRuns: 3000 },
  );
});

test("byte edits to a real token never yield claims", async () => {
  await fc.assert(
    fc.asyncProperty(seed, fc.array(edit, { minLength: 1, maxLength: 3 }), async (s, edits) => {
      const mutated = edits.reduce(apply, s.token);
      fc.pre(differs(mutated, s.token));
      assert.notEqual(await outcome(mutated, s.anchors), "claims");
    }),
    { numRuns: 5000 },
  );
});

test("a claim replaced by another value never yields claims", async () => {
  await fc.assert(
    fc.asyncProperty(seed, fc.boolean(), fc.nat(), cborValue, async (s, realm, pick, value) => {
      const mutated = replaceClaim(s.token, realm, pick, value);
      fc.pre(differs(mutated, s.token));
      assert.notEqual(await outcome(mutated, s.anchors), "claims");
    }),
    { numRuns: 2500 },
  );
});
