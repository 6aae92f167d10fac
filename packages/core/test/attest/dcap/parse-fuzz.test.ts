import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { isDcapQuote, parseQuote, type Quote } from "../../../src/attest/dcap/abi/index.js";
import type { ParseError } from "../../../src/errors.js";
import { mutate, mutation, parsedOrRefused } from "../../support/fuzz.js";
import { TESTVECTORS, VECTOR_INDEX } from "../../support/testvectors.js";

/**
 * parseQuote is total: whatever the bytes, it returns or throws a ParseError with a
 * dcap.quote.* code, a field and an offset inside the input. A RangeError from a DataView or a
 * TypeError from an undefined index would escape every caller's error handling, so any other
 * throw fails the property. What does parse must be consistent with the bytes it came from.
 */
function total(bytes: Uint8Array): Quote | undefined {
  const quote = parsedOrRefused(parseQuote, bytes, /^dcap\.quote\.[a-z_]+$/);
  if (quote === undefined) return undefined;
  const { header, body, signatureData, signedBytes } = quote;
  assert.ok(isDcapQuote(bytes));
  assert.ok([3, 4, 5].includes(header.version));
  assert.equal(header.attestationKeyType, 2);
  assert.equal(header.teeType, quote.teeType);
  const bodySize = quote.teeType === "sgx" ? 384 : quote.body.kind === "td15" ? 648 : 584;
  assert.equal(signedBytes.length, 48 + (header.version === 5 ? 6 : 0) + bodySize);
  assert.deepEqual(signedBytes, bytes.subarray(0, signedBytes.length));
  assert.deepEqual(
    quote.teeType === "sgx" ? quote.body.bytes : quote.body.reportData,
    quote.teeType === "sgx"
      ? signedBytes.subarray(-384)
      : signedBytes.subarray(
          signedBytes.length - bodySize + 520,
          signedBytes.length - bodySize + 584,
        ),
  );
  assert.ok(body !== undefined);
  assert.equal(signatureData.signature.length, 64);
  assert.equal(signatureData.attestationKey.length, 64);
  const c = signatureData.certification;
  assert.equal(c.qeReport.bytes.length, 384);
  assert.equal(c.qeReportSignature.length, 64);
  assert.ok(/^[\t\n\r\x20-\x7e]+$/.test(c.pckChainPem));
  return quote;
}

const read = (path: string) => new Uint8Array(readFileSync(`${TESTVECTORS}${path}`));
const le16 = (n: number) => Uint8Array.of(n & 0xff, (n >> 8) & 0xff);
const le32 = (n: number) => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, true);
  return out;
};
const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const getU32 = (bytes: Uint8Array, at: number) =>
  new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);

const real = VECTOR_INDEX.filter((e) => e.tee === "tdx" || e.tee === "sgx").flatMap((e) =>
  Object.entries(e.files)
    .filter(([role, path]) => role.includes("quote") && !path.endsWith(".json"))
    .map(([, path]) => read(path)),
);
assert.equal(real.length, 15);

/**
 * Seeds for the layouts no vector has, spliced from real bytes: v5 with a TDX 1.0 body (type 2),
 * v4 with an SGX body and v5 with one (type 1), whose v3 signature data gets the type 6 wrapper.
 */
function derived(): Uint8Array[] {
  const v4 = real.find((q) => q[0] === 4 && q[4] === 0x81) as Uint8Array;
  const v3 = real.find((q) => q[0] === 3) as Uint8Array;
  const withVersion = (bytes: Uint8Array, version: number) =>
    cat(le16(version), bytes.subarray(2, 48));
  const v5td10 = cat(withVersion(v4, 5), le16(2), le32(584), v4.subarray(48));
  const sigLength = getU32(v3, 432);
  const sig = v3.subarray(436, 436 + sigLength);
  const wrapped = cat(
    le32(sigLength + 6),
    sig.subarray(0, 128),
    le16(6),
    le32(sigLength - 128),
    sig.subarray(128),
  );
  const v4sgx = cat(withVersion(v3, 4), v3.subarray(48, 432), wrapped);
  const v5sgx = cat(withVersion(v3, 5), le16(1), le32(384), v3.subarray(48, 432), wrapped);
  return [v5td10, v4sgx, v5sgx];
}
const seeds = [...real, ...derived()];
for (const seed of seeds) assert.ok(total(seed) !== undefined);

/** Every version, type and size field of a well-formed seed (offset, width): where edits matter. */
function fields(bytes: Uint8Array): (readonly [number, 2 | 4])[] {
  const quote = parseQuote(bytes);
  const sigLengthAt = quote.signedBytes.length;
  const sigAt = sigLengthAt + 4;
  const wrapped = quote.header.version !== 3;
  const qeAt = sigAt + 128 + (wrapped ? 6 : 0);
  const authAt = qeAt + 448;
  const nestedAt = authAt + 2 + quote.signatureData.certification.qeAuthData.length;
  return [
    [0, 2],
    [2, 2],
    [4, 4],
    ...(quote.header.version === 5
      ? ([
          [48, 2],
          [50, 4],
        ] as const)
      : []),
    [sigLengthAt, 4],
    ...(wrapped
      ? ([
          [sigAt + 128, 2],
          [sigAt + 130, 4],
        ] as const)
      : []),
    [authAt, 2],
    [nestedAt, 2],
    [nestedAt + 2, 4],
  ];
}
const targets = seeds.map((seed) => ({ seed, fields: fields(seed) }));

/** A 32-bit field edit: nudged by a little, set to an edge value, or to anything. */
const fieldValue = fc.oneof(
  fc.record({ delta: fc.integer({ min: -8, max: 8 }) }),
  fc.record({ value: fc.constantFrom(0, 1, 2, 3, 5, 6, 0x81, 0xffff, 0x10000, 0xffffffff) }),
  fc.record({ value: fc.nat({ max: 0xffffffff }) }),
);

/** Random headers the sniff accepts, followed by random or truncated structure. */
const plausible = fc
  .record({
    version: fc.constantFrom(3, 4, 5, 5, 2, 6),
    keyType: fc.constantFrom(2, 2, 2, 3),
    tee: fc.constantFrom(0, 0x81, 0x81, 1),
    bodyType: fc.constantFrom(1, 2, 3, 3, 0, 4),
    bodySize: fc.constantFrom(384, 584, 648, 0, 100000),
    rest: fc.uint8Array({ maxLength: 1200 }),
  })
  .map(({ version, keyType, tee, bodyType, bodySize, rest }) =>
    cat(
      le16(version),
      le16(keyType),
      le32(tee),
      new Uint8Array(40),
      version === 5 ? cat(le16(bodyType), le32(bodySize)) : new Uint8Array(0),
      rest,
    ),
  );

test("parseQuote is total on random bytes and plausible headers", () => {
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 1500 }), plausible), (bytes) => {
      total(bytes);
    }),
    { numRuns: 3000 },
  );
});

test("parseQuote is total on mutations of every real quote", () => {
  let parsed = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(mutation, { minLength: 1, maxLength: 5 }),
      (seed, edits) => {
        if (total(mutate(seed, edits)) !== undefined) parsed++;
      },
    ),
    { numRuns: 5000 },
  );
  // Edits in the body or the certificates leave a quote of valid shape (about a quarter of the
  // runs; truncations end most others): fewer would mean the edits stop at the framing.
  assert.ok(parsed > 1000, `only ${parsed} mutated quotes parsed`);
});

test("parseQuote is total on edits of the version, type and size fields", () => {
  const codes = new Set<string>();
  fc.assert(
    fc.property(
      fc.constantFrom(...targets),
      fc.nat(),
      fieldValue,
      fc.uint8Array({ maxLength: 16 }),
      ({ seed, fields }, pick, edit, tail) => {
        const [at, width] = fields[pick % fields.length] as readonly [number, 2 | 4];
        const bytes = cat(seed, tail);
        const view = new DataView(bytes.buffer);
        const old = width === 4 ? view.getUint32(at, true) : view.getUint16(at, true);
        const value = "delta" in edit ? old + edit.delta : edit.value;
        if (width === 4) view.setUint32(at, value >>> 0, true);
        else view.setUint16(at, value & 0xffff, true);
        try {
          total(bytes);
        } catch (error) {
          throw new Error(`at ${at}: ${String(error)}`);
        }
        try {
          parseQuote(bytes);
        } catch (error) {
          codes.add((error as ParseError).code);
        }
      },
    ),
    { numRuns: 3000 },
  );
  // The edits reach every check the layout has.
  for (const code of [
    "version",
    "key_type",
    "tee_type",
    "body_type",
    "body_size",
    "signature_data",
    "certification_type",
    "certification_data",
    "qe_auth_data",
  ]) {
    assert.ok(codes.has(`dcap.quote.${code}`), `no edit gave dcap.quote.${code}`);
  }
});
