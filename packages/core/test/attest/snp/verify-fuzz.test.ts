import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  type AttestationResult,
  type Authenticity,
  attest,
  type Collateral,
  type Evidence,
  type Policy,
  parseAzureEvidence,
  sniffSnpEvidence,
  verifyEvidence,
} from "@cloister/core";
import fc from "fast-check";
import { applyEdit, assertKnownFailures, type ByteEdit, byteEdit } from "../../support/fuzz.js";
import { TESTVECTORS, VECTOR_INDEX, type VectorEntry } from "../../support/testvectors.js";

/**
 * Verification as a whole is total and unforgeable by byte edits: whatever the bytes, attest()
 * and verifyEvidence() return (a CloisterError from deep inside becomes a failed check; anything
 * else escaping is a bug), and no edit to what the signature covers, or to the signature itself,
 * yields claims. Seeds are every real SEV-SNP report in index.json, each with its real signing
 * certificate, so edits are checked against the key that really signed the original.
 */

const read = (path: string) => new Uint8Array(readFileSync(`${TESTVECTORS}${path}`));
const DAY = 24 * 60 * 60 * 1000;
const REPORT_SIZE = 0x4a0;

/** Byte ranges of the report, by what an edit there must do. */
const SIGNED = [0x000, 0x2a0] as const; // the signature covers these
const R = [0x2a0, 0x2d0] as const; // 48 little-endian bytes of r
const R_PAD = [0x2d0, 0x2e8] as const; // must be zero
const S = [0x2e8, 0x318] as const; // 48 little-endian bytes of s
const S_PAD = [0x318, 0x330] as const; // must be zero
// 0x330-0x49F: reserved, neither signed nor checked.

const PERMISSIVE: Policy = { platforms: ["sev-snp"], allowDebug: true };
const KNOWN_PREFIXES = ["snp.", "evidence.", "azure."];

interface Seed {
  readonly name: string;
  readonly report: Uint8Array;
  readonly collateral: Collateral;
  readonly now: Date;
}

function certificatesIn(value: Uint8Array | string): X509Certificate[] {
  const text = typeof value === "string" ? value : Buffer.from(value).toString("latin1");
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (blocks === null) return [new X509Certificate(Buffer.from(value as Uint8Array))];
  return blocks.map((block) => new X509Certificate(block));
}

const isSigner = (c: X509Certificate) => /^CN=SEV-(VCEK|VLEK)$/m.test(c.subject);

/** The signing certificate among an entry's certificate files. */
function signerOf(entry: VectorEntry): X509Certificate {
  const signer = Object.values(entry.files)
    .filter((path) => /\.(der|pem)$/.test(path))
    .flatMap((path) => certificatesIn(read(path)))
    .find(isSigner);
  assert.ok(signer, `${entry.id} has a VCEK or VLEK`);
  return signer;
}

/**
 * Every report in the SEV-SNP entries: raw ones as they are, Azure ones lifted out of their HCL
 * report. Only the signer travels as collateral; the ASK/ASVK and ARK are Cloister's pinned ones.
 */
function seeds(): Seed[] {
  const out: Seed[] = [];
  const add = (name: string, report: Uint8Array, signer: X509Certificate) =>
    out.push({
      name,
      report,
      collateral: { certificates: new Uint8Array(signer.raw) },
      now: new Date(Date.parse(signer.validFrom) + DAY),
    });
  for (const entry of VECTOR_INDEX.filter((e) => e.tee?.startsWith("sev-snp") === true)) {
    for (const [key, path] of Object.entries(entry.files)) {
      if (/^(report|report \(derived\)|report_hex)$/.test(key)) {
        const sniffed = sniffSnpEvidence(read(path));
        assert.equal(sniffed?.evidence.format, "snp-report", path);
        add(path, sniffed.evidence.data, signerOf(entry));
      } else if (/^(hcl_report|evidence|evidence_v\d)$/.test(key)) {
        const azure = parseAzureEvidence(read(path));
        const signer =
          azure.vcek === undefined ? signerOf(entry) : certificatesIn(azure.vcek).find(isSigner);
        assert.ok(signer, path);
        add(path, azure.hcl.reportBytes.slice(), signer);
      }
    }
  }
  return out;
}

const SEEDS = seeds();

const differsIn = (a: Uint8Array, b: Uint8Array, [from, to]: readonly [number, number]) => {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return true;
  return false;
};

type Region = "length" | "signed" | "signature" | "padding" | "tail" | "none";

/** Where an edited report differs from its original, by the most consequential region. */
function regionOf(edited: Uint8Array, original: Uint8Array): Region {
  if (edited.length !== original.length) return "length";
  if (differsIn(edited, original, SIGNED)) return "signed";
  if (differsIn(edited, original, R) || differsIn(edited, original, S)) return "signature";
  if (differsIn(edited, original, R_PAD) || differsIn(edited, original, S_PAD)) return "padding";
  if (differsIn(edited, original, [S_PAD[1], REPORT_SIZE])) return "tail";
  return "none";
}

const stats = {
  random: 0,
  edited: 0,
  byRegion: { length: 0, signed: 0, signature: 0, padding: 0, tail: 0, none: 0 },
  tailAuthentic: 0,
};

const snp = (data: Uint8Array, format = "snp-report"): Evidence => ({
  platform: "sev-snp",
  format,
  data,
});

/** Both entry points, and the invariants every input keeps whatever its bytes. */
async function verifyBoth(
  evidence: Evidence,
  seed: Seed,
): Promise<{ result: AttestationResult; authenticity: Authenticity }> {
  const options = { now: seed.now, collateral: seed.collateral };
  const authenticity = await verifyEvidence(evidence, options);
  const result = await attest(evidence, PERMISSIVE, options);
  assertKnownFailures(authenticity.checks, KNOWN_PREFIXES);
  // attest() is verifyEvidence() plus appraisal: they agree on authenticity.
  assert.equal(result.claims === undefined, authenticity.claims === undefined);
  return { result, authenticity };
}

function refused({ result, authenticity }: Awaited<ReturnType<typeof verifyBoth>>): void {
  assert.equal(authenticity.claims, undefined);
  assert.ok(authenticity.checks.some((c) => c.status === "fail"));
  assert.equal(result.claims, undefined);
  assert.equal(result.verdict, "contraindicated");
}

/** Edits biased to the places that matter: signature, TCB, chip ID, fields the parser checks. */
const position = fc.oneof(
  fc.nat(REPORT_SIZE - 1),
  fc.integer({ min: R[0], max: S_PAD[1] - 1 }),
  fc.integer({ min: 0x180, max: 0x1df }),
  fc.constantFrom(0x00, 0x08, 0x0a, 0x30, 0x34, 0x48),
);
const biasedEdit = fc.tuple(byteEdit, position).map(([e, at]): ByteEdit => ({ ...e, at }));

const seedIndex = fc.nat(SEEDS.length - 1);

const originals = new Map<Seed, Promise<AttestationResult>>();
/** The unedited report's result under the permissive policy, computed once per seed. */
function originalOf(seed: Seed): Promise<AttestationResult> {
  let result = originals.get(seed);
  if (result === undefined) {
    result = attest(snp(seed.report), PERMISSIVE, { now: seed.now, collateral: seed.collateral });
    originals.set(seed, result);
  }
  return result;
}

const RUNS = { random: 3000, edited: 6000, tail: 1000 };

describe("SEV-SNP verification under fuzzing", () => {
  test("every seed is a distinct real report that verifies with its own signer", async () => {
    assert.equal(SEEDS.length, 18, "index.json's 18 distinct SEV-SNP reports");
    assert.equal(new Set(SEEDS.map((s) => Buffer.from(s.report).toString("hex"))).size, 18);
    for (const seed of SEEDS) {
      const { result } = await verifyBoth(snp(seed.report), seed);
      assert.ok(result.claims, `${seed.name} verifies`);
      assert.notEqual(result.verdict, "contraindicated", seed.name);
    }
  });

  test("random bytes, some shaped like a report, are refused and never throw", async () => {
    const report = fc
      .record({
        length: fc.oneof(fc.constant(REPORT_SIZE), fc.nat(1400)),
        version: fc.option(fc.constantFrom(2, 3, 4, 5), { freq: 4 }),
        plausible: fc.boolean(),
        keyInfo: fc.constantFrom(0, 4),
        azure: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
        seed: seedIndex,
      })
      .chain((shape) =>
        fc
          .uint8Array({ minLength: shape.length, maxLength: shape.length })
          .map((bytes) => ({ ...shape, bytes })),
      );
    await fc.assert(
      fc.asyncProperty(report, async (input) => {
        stats.random++;
        const bytes = input.bytes;
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        if (input.version !== null && bytes.length >= 4) view.setUint32(0, input.version, true);
        if (input.plausible && bytes.length >= REPORT_SIZE) {
          // Past every shape check, so that the signature check is what refuses it.
          view.setUint32(0x30, (bytes[0x30] as number) & 3, true);
          view.setUint32(0x34, 1, true);
          bytes[0x0a] = (bytes[0x0a] as number) | 0x02;
          view.setUint32(0x48, input.keyInfo, true);
          bytes.fill(0, R_PAD[0], R_PAD[1]);
          bytes.fill(0, S_PAD[0], S_PAD[1]);
        }
        sniffSnpEvidence(bytes);
        const seed = SEEDS[input.seed] as Seed;
        const format = input.azure ? "azure-snp-vtpm" : "snp-report";
        refused(await verifyBoth(snp(bytes, format), seed));
      }),
      { numRuns: RUNS.random },
    );
  });

  test("1-4 edits of a real report: any change to the signed bytes or R/S is refused", async () => {
    const input = fc.record({
      seed: seedIndex,
      edits: fc.array(biasedEdit, { minLength: 1, maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(input, async ({ seed: i, edits }) => {
        stats.edited++;
        const seed = SEEDS[i] as Seed;
        const edited = edits.reduce(applyEdit, seed.report);
        const region = regionOf(edited, seed.report);
        stats.byRegion[region]++;
        const outcome = await verifyBoth(snp(edited), seed);
        if (region === "tail" || region === "none") {
          assert.ok(
            outcome.result.claims,
            "the unsigned reserved tail does not affect authenticity",
          );
          return;
        }
        refused(outcome);
        const failed = outcome.authenticity.checks.filter((c) => c.status === "fail");
        if (region === "length")
          assert.deepEqual(
            failed.map((c) => c.code),
            ["snp.report.length"],
          );
        if (region === "padding") {
          assert.deepEqual(
            failed.map((c) => c.code),
            ["snp.report.signature_encoding"],
          );
        }
      }),
      { numRuns: RUNS.edited },
    );
  });

  test("edits confined to 0x318-0x49F: the zero padding of S is enforced, the rest is not signed", async () => {
    const tailEdit = fc.oneof(
      fc.record({
        op: fc.constant("flip" as const),
        at: fc.integer({ min: S_PAD[0], max: REPORT_SIZE - 1 }),
        bit: fc.nat(7),
      }),
      fc.record({
        op: fc.constant("set" as const),
        at: fc.integer({ min: S_PAD[0], max: REPORT_SIZE - 1 }),
        value: fc.nat(255),
      }),
    );
    const input = fc.record({
      seed: seedIndex,
      edits: fc.array(tailEdit, { minLength: 1, maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(input, async ({ seed: i, edits }) => {
        stats.edited++;
        const seed = SEEDS[i] as Seed;
        const edited = edits.reduce(applyEdit, seed.report);
        const region = regionOf(edited, seed.report);
        assert.ok(region === "padding" || region === "tail" || region === "none");
        stats.byRegion[region]++;
        const original = await originalOf(seed);
        const outcome = await verifyBoth(snp(edited), seed);
        if (region === "padding") {
          refused(outcome);
          return;
        }
        // Not signed, not checked: the same claims and verdict as the original report.
        stats.tailAuthentic += region === "tail" ? 1 : 0;
        assert.equal(outcome.result.verdict, original.verdict);
        assert.deepEqual(outcome.result.claims, original.claims);
      }),
      { numRuns: RUNS.tail },
    );
  });

  test("the runs covered at least 10,000 inputs and every region", (t) => {
    t.diagnostic(`inputs by region: ${JSON.stringify(stats)}`);
    assert.ok(stats.random + stats.edited >= 10_000, JSON.stringify(stats));
    for (const region of ["length", "signed", "signature", "padding", "tail"] as const) {
      assert.ok(stats.byRegion[region] > 0, `some edits landed in ${region}`);
    }
    assert.ok(stats.tailAuthentic > 0);
  });
});
