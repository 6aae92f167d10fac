import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  type AttestationResult,
  attest,
  type Collateral,
  collateralFromParts,
  type Evidence,
  encodeCollateralBundle,
  type Policy,
  TCB_STATUSES,
} from "@cloister/core";
import fc from "fast-check";
import { applyEdit, assertKnownFailures, byteEdit } from "../../support/fuzz.js";
import { TESTVECTORS, VECTOR_INDEX, type VectorEntry } from "../../support/testvectors.js";

/**
 * DCAP verification as a whole is total and unforgeable by byte edits: whatever the bytes,
 * attest() returns (a CloisterError from deep inside becomes a failed check; anything else
 * escaping is a bug), and no edit to what the quote signature covers (header and body) or to the
 * signature data up to its declared end yields claims or an affirming verdict. Seeds are every
 * real TDX and SGX quote in index.json, each with the Intel collateral its entry ships where that
 * collateral rates it, so that edits meet the same chain, QE, signature and TCB checks the
 * original passed.
 *
 * One class of edit inside the signature data may keep the quote authentic: an edit to the PEM
 * text of the PCK chain (certification data type 5) that leaves the PCK certificate and its CA
 * unchanged (line breaks, text outside the BEGIN/END lines, the NULs after the chain, or a
 * broken BEGIN line that drops the root, which the chain may omit because the pinned root is
 * used). The PEM text is not signed by anything; what is authenticated is each certificate, by
 * its issuer's signature. Such edits are told apart by decoding the PEM here, independently.
 * Edits that change only the framing after a certificate's TBSCertificate (the tag and length
 * octets of its signature algorithm and value, the BIT STRING's unused-bits octet) are a known
 * bug: Cloister accepts such certificates, OpenSSL does not. They are counted apart here, and
 * mutations.test.ts asserts the behaviour they should have.
 */

const read = (path: string) => new Uint8Array(readFileSync(`${TESTVECTORS}${path}`));
const SECOND = 1000;

const PERMISSIVE: Policy = {
  platforms: ["tdx", "sgx"],
  allowDebug: true,
  dcap: { tcbStatuses: TCB_STATUSES.filter((s) => s !== "Revoked") },
};
const KNOWN_PREFIXES = ["dcap.", "tdx.", "sgx.", "certificate."];

interface Seed {
  readonly name: string;
  readonly tee: "tdx" | "sgx";
  readonly quote: Uint8Array;
  readonly collateral: Collateral;
  readonly now: Date;
  readonly layout: Layout;
}

/**
 * Where a quote's parts lie, read here from the declared sizes (Intel SGX ECDSA Quote Library
 * API and TDX DCAP Quoting Library API, quote formats v3, v4 and v5), not by the parser under
 * test: the signed header and body end at `signedEnd`; the signature data runs to `end`; the PEM
 * of the PCK chain is `[pem, end)`.
 */
interface Layout {
  readonly signedEnd: number;
  readonly pem: number;
  readonly end: number;
}

function layoutOf(quote: Uint8Array): Layout {
  const view = new DataView(quote.buffer, quote.byteOffset, quote.byteLength);
  const version = view.getUint16(0, true);
  const tdx = view.getUint32(4, true) === 0x81;
  const signedEnd = version === 5 ? 48 + 6 + view.getUint32(50, true) : 48 + (tdx ? 584 : 384);
  const end = signedEnd + 4 + view.getUint32(signedEnd, true);
  let at = signedEnd + 4 + 64 + 64 + (version === 3 ? 0 : 6);
  at += 384 + 64;
  at += 2 + view.getUint16(at, true);
  return { signedEnd, pem: at + 6, end };
}

// ---- the seeds ----------------------------------------------------------------------------

const ISO = String.raw`\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}Z)?`;
const instant = (iso: string) => new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);

function verifyTime(entry: VectorEntry): Date {
  const leading = new RegExp(`^(${ISO})`).exec(entry.verify_at)?.[1];
  if (leading?.includes("T")) return instant(leading);
  const windows = [...entry.verify_at.matchAll(new RegExp(`(${ISO})\\.\\.(${ISO})`, "g"))].map(
    (m) => [instant(m[1] as string).getTime(), instant(m[2] as string).getTime()] as const,
  );
  const from = Math.max(...windows.map(([a]) => a));
  const to = Math.min(...windows.map(([, b]) => b));
  assert.ok(windows.length > 0 && from < to, `${entry.id}: no usable time in verify_at`);
  return new Date(Math.floor((from + to) / 2 / SECOND) * SECOND);
}

const PCS = "tdx/automata-pcs-certs/";

/** The entry's collateral: dcap-qvl's JSON, or the PCS files it names as a Cloister bundle. */
function bundleOf(entry: VectorEntry): string | undefined {
  const files = entry.files;
  if (files.collateral !== undefined) {
    return readFileSync(`${TESTVECTORS}${files.collateral}`, "utf8");
  }
  if (files.tcb_info === undefined || files.qe_identity === undefined) return undefined;
  const pcs = files.pcs_certs ?? PCS;
  return encodeCollateralBundle(
    collateralFromParts({
      tcbInfo: read(files.tcb_info),
      qeIdentity: read(files.qe_identity),
      tcbSigningChain: read(files.tcb_signing ?? `${pcs}Intel_SGX_TCB_Signing_2025.der`),
      ...(files.pck_crl === undefined ? {} : { pckCrl: read(files.pck_crl) }),
      rootCrl: read(files.root_crl ?? `${pcs}Intel_SGX_Root_CA_crl_2025-03.der`),
    }),
  );
}

const evidenceOf = (tee: "tdx" | "sgx", data: Uint8Array): Evidence =>
  tee === "tdx"
    ? { platform: "tdx", format: "tdx-quote", data }
    : { platform: "sgx", format: "sgx-quote", data };

/**
 * Every quote of the TDX and SGX entries, with the entry's collateral (and the CCEL of
 * go-tdx-guest's GCP vector) when the original verifies with it; otherwise without the bundle
 * (a platform Intel does not rate, or collateral with no common validity time), so that every
 * seed starts authentic.
 */
async function seeds(): Promise<Seed[]> {
  const out: Seed[] = [];
  for (const entry of VECTOR_INDEX.filter((e) => e.tee === "tdx" || e.tee === "sgx")) {
    const path = entry.files.quote ?? entry.files["quote (derived)"] ?? entry.files.td_quote;
    assert.ok(path, `${entry.id} names a quote`);
    const tee = entry.tee as "tdx" | "sgx";
    const quote = read(path);
    const now = verifyTime(entry);
    const ccel =
      entry.files.ccel_data === undefined
        ? {}
        : {
            ccel_data: read(entry.files.ccel_data),
            ...(entry.files.ccel_table === undefined
              ? {}
              : { ccel_table: read(entry.files.ccel_table) }),
          };
    const bundle = bundleOf(entry);
    let collateral: Collateral = {
      ...ccel,
      ...(bundle === undefined ? {} : { dcap_collateral: bundle }),
    };
    if (
      (await attest(evidenceOf(tee, quote), PERMISSIVE, { now, collateral })).claims === undefined
    ) {
      collateral = ccel;
    }
    out.push({ name: entry.id, tee, quote, collateral, now, layout: layoutOf(quote) });
  }
  return out;
}

const SEEDS = await seeds();

// ---- edits --------------------------------------------------------------------------------

/** Where an edit lands, as a fraction-free choice the seed turns into an offset. */
type Target = "anywhere" | "header" | "body" | "sizes" | "qe" | "pem" | "tail";
const target = fc.constantFrom<Target>("anywhere", "header", "body", "sizes", "qe", "pem", "tail");

function offsetIn(seed: Seed, where: Target, n: number): number {
  const { signedEnd, pem, end } = seed.layout;
  const length = seed.quote.length;
  const pick = (from: number, to: number) => (to > from ? from + (n % (to - from)) : n % length);
  switch (where) {
    case "header":
      return pick(0, 48);
    case "body":
      return pick(48, signedEnd);
    case "sizes": {
      // The signature-data length, and the certification data type and size fields.
      const fields = [signedEnd, signedEnd + 132, pem - 6, pem - 4];
      return (fields[n % fields.length] as number) + ((n >> 3) % 4);
    }
    case "qe":
      return pick(signedEnd + 4, pem);
    case "pem":
      return pick(pem, end);
    case "tail":
      return pick(end, length + 1);
    default:
      return n % (length + 1);
  }
}

// ---- classifying an edited quote -------------------------------------------------------------

const equalBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** The certificates a PEM text encodes, or undefined where a block is not plain base64. */
function pemCertificates(bytes: Uint8Array): string[] | undefined {
  const text = Buffer.from(bytes).toString("latin1");
  const blocks = [
    ...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g),
  ];
  const ders: string[] = [];
  for (const block of blocks) {
    const body = (block[1] as string).replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) return undefined;
    ders.push(Buffer.from(body, "base64").toString("hex"));
  }
  return ders;
}

type Region = "none" | "signed" | "signature_data" | "pem_equivalent" | "framing_bug" | "after_end";

/**
 * The framing octets of a certificate after its TBSCertificate, which its signature does not
 * cover: the tag and length octets of signatureAlgorithm, of the signatureValue BIT STRING and
 * of the ECDSA-Sig-Value SEQUENCE and its two INTEGERs inside it, and the BIT STRING's
 * unused-bits octet. (The OID and the integers' values are not framing: they change meaning.)
 */
function framingOctets(der: Buffer): Set<number> {
  const out = new Set<number>();
  /** Adds the tag and length octets of the element at `at`; returns where its content starts. */
  const frame = (at: number): { content: number; end: number } => {
    out.add(at);
    const first = der[at + 1] as number;
    const size = first < 0x80 ? 0 : first & 0x7f;
    let length = first < 0x80 ? first : 0;
    for (let i = 0; i <= size; i++) out.add(at + 1 + i);
    for (let i = 0; i < size; i++) length = length * 256 + (der[at + 2 + i] as number);
    const content = at + 2 + size;
    return { content, end: content + length };
  };
  const outer = frame(0);
  const tbs = frame(outer.content);
  out.clear(); // The outer SEQUENCE and the TBSCertificate are not framing to tolerate.
  const algorithm = frame(tbs.end);
  const bits = frame(algorithm.end);
  out.add(bits.content);
  const signature = frame(bits.content + 1);
  const r = frame(signature.content);
  frame(r.end);
  return out;
}

/**
 * Whether the edited certificate differs from the original only in framing octets after the
 * TBSCertificate: the known bug mutations.test.ts asserts the right behaviour for.
 */
function framingOnly(before: string, after: string): boolean {
  const a = Buffer.from(before, "hex");
  const b = Buffer.from(after, "hex");
  if (a.length !== b.length) return false;
  const framing = framingOctets(a);
  return [...a.keys()].every((i) => a[i] === b[i] || framing.has(i));
}

/**
 * Which bytes an edited quote changed, by the first difference: nothing; the signed header and
 * body; the signature data up to its declared end (sizes, keys, QE report, PEM); only the PEM
 * text, encoding the same certificates; or only what lies after the declared end.
 */
function regionOf(edited: Uint8Array, seed: Seed): Region {
  const original = seed.quote;
  if (equalBytes(edited, original)) return "none";
  let first = 0;
  while (first < edited.length && first < original.length && edited[first] === original[first]) {
    first++;
  }
  const { signedEnd, pem, end } = seed.layout;
  if (first >= end) return "after_end";
  if (first < signedEnd) return "signed";
  if (first >= pem && edited.length >= end) {
    const before = pemCertificates(original.subarray(pem, end)) ?? [];
    const after = pemCertificates(edited.subarray(pem, end));
    // The same PCK certificate and CA; the root, which is never used (the pinned one is), may
    // be dropped, since the chain need not carry it.
    const kept = after?.length === before.length || after?.length === 2;
    if (kept && after?.every((der, i) => der === before[i])) return "pem_equivalent";
    // The known bug: a certificate re-framed outside its TBSCertificate is still accepted.
    if (
      after?.length === before.length &&
      after.every((der, i) => der === before[i] || framingOnly(before[i] as string, der))
    ) {
      return "framing_bug";
    }
  }
  return "signature_data";
}

// ---- running -------------------------------------------------------------------------------

const originals = new Map<Seed, Promise<AttestationResult>>();
function originalOf(seed: Seed): Promise<AttestationResult> {
  let result = originals.get(seed);
  if (result === undefined) {
    result = attest(evidenceOf(seed.tee, seed.quote), PERMISSIVE, seed);
    originals.set(seed, result);
  }
  return result;
}

/** attest() never throws, and every failure carries a DCAP reason code. */
async function attestEdited(evidence: Evidence, seed: Seed): Promise<AttestationResult> {
  const result = await attest(evidence, PERMISSIVE, { now: seed.now, collateral: seed.collateral });
  assertKnownFailures(result.checks, KNOWN_PREFIXES);
  return result;
}

function refused(result: AttestationResult): void {
  assert.equal(result.claims, undefined);
  assert.equal(result.verdict, "contraindicated");
  assert.ok(
    result.checks.some((c) => c.status === "fail"),
    "a refusal names its reason",
  );
}

const stats = {
  random: 0,
  edited: 0,
  byRegion: {
    none: 0,
    signed: 0,
    signature_data: 0,
    pem_equivalent: 0,
    framing_bug: 0,
    after_end: 0,
  },
  authentic: { pem_equivalent: 0, framing_bug: 0, after_end: 0 },
};

const RUNS = { random: 4000, edited: 16_000 };

describe("DCAP verification under fuzzing", () => {
  test("every seed is a real quote that verifies at its entry's time", async () => {
    assert.equal(SEEDS.length, 15, "index.json's 15 TDX and SGX quotes");
    assert.equal(new Set(SEEDS.map((s) => Buffer.from(s.quote).toString("hex"))).size, 15);
    for (const seed of SEEDS) {
      const result = await originalOf(seed);
      assert.ok(result.claims, `${seed.name} verifies`);
      assert.ok(seed.layout.end <= seed.quote.length, `${seed.name}: the declared sizes fit`);
    }
    // Collateral rates the seeds that ship consistent collateral for a platform Intel rates.
    const rated = SEEDS.filter((s) => s.collateral.dcap_collateral !== undefined);
    assert.equal(rated.length, 6, rated.map((s) => s.name).join());
  });

  test("random bytes, some shaped like a quote, are refused and never throw", async () => {
    const quote = fc
      .record({
        length: fc.oneof(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 600, max: 5200 })),
        version: fc.constantFrom(3, 4, 5, 0, 6),
        teeType: fc.constantFrom(0x00, 0x81, 0x01),
        bodyType: fc.constantFrom(1, 2, 3, 9),
        plausibleSizes: fc.boolean(),
        asTdx: fc.boolean(),
        seed: fc.nat(SEEDS.length - 1),
      })
      .chain((shape) =>
        fc
          .uint8Array({ minLength: shape.length, maxLength: shape.length })
          .map((bytes) => ({ ...shape, bytes })),
      );
    await fc.assert(
      fc.asyncProperty(quote, async (input) => {
        stats.random++;
        const bytes = input.bytes;
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        if (bytes.length >= 48) {
          view.setUint16(0, input.version, true);
          view.setUint16(2, 2, true); // ECDSA P-256
          view.setUint32(4, input.teeType, true);
        }
        if (input.version === 5 && bytes.length >= 54) {
          const size = [0, 384, 584, 648][input.bodyType] ?? 1;
          view.setUint16(48, input.bodyType, true);
          view.setUint32(50, size, true);
        }
        if (input.plausibleSizes && bytes.length >= 54) {
          // A signature-data length that fits what follows, so that parsing goes deeper.
          const seed = SEEDS[input.seed] as Seed;
          const at = Math.min(layoutOf(seed.quote).signedEnd, bytes.length - 4);
          view.setUint32(at, bytes.length - at - 4, true);
        }
        const seed = SEEDS[input.seed] as Seed;
        refused(await attestEdited(evidenceOf(input.asTdx ? "tdx" : "sgx", bytes), seed));
      }),
      { numRuns: RUNS.random },
    );
  });

  test("1-4 edits of a real quote: any change before the declared end is refused", async () => {
    const input = fc.record({
      seed: fc.nat(SEEDS.length - 1),
      edits: fc.array(fc.tuple(byteEdit, target, fc.nat()), { minLength: 1, maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(input, async ({ seed: i, edits }) => {
        stats.edited++;
        const seed = SEEDS[i] as Seed;
        const bytes = edits.reduce(
          (quote, [e, where, n]) => applyEdit(quote, { ...e, at: offsetIn(seed, where, n) }),
          seed.quote,
        );
        const region = regionOf(bytes, seed);
        stats.byRegion[region]++;
        const result = await attestEdited(evidenceOf(seed.tee, bytes), seed);
        if (region === "signed" || region === "signature_data") {
          refused(result);
          return;
        }
        if (result.claims === undefined) return;
        // What may verify verifies to exactly the original's claims and verdict.
        if (region !== "none") stats.authentic[region]++;
        const original = await originalOf(seed);
        assert.equal(result.verdict, original.verdict);
        assert.deepEqual(result.claims, original.claims);
      }),
      { numRuns: RUNS.edited },
    );
  });

  test("PEM line breaks made spaces keep the certificates, and the quote verifies as before", async () => {
    for (const seed of SEEDS) {
      const { pem, end } = seed.layout;
      const edited = seed.quote.slice();
      for (let i = pem; i < end; i++) if (edited[i] === 0x0a) edited[i] = 0x20;
      assert.ok(!equalBytes(edited, seed.quote), `${seed.name}: its PEM has line breaks`);
      assert.equal(regionOf(edited, seed), "pem_equivalent");
      const result = await attestEdited(evidenceOf(seed.tee, edited), seed);
      assert.deepEqual(result.claims, (await originalOf(seed)).claims, seed.name);
    }
  });

  test("the runs covered at least 10,000 inputs and every region", (t) => {
    t.diagnostic(`inputs by region: ${JSON.stringify(stats)}`);
    assert.ok(stats.random + stats.edited >= 10_000, JSON.stringify(stats));
    for (const region of ["signed", "signature_data", "pem_equivalent", "after_end"] as const) {
      assert.ok(stats.byRegion[region] > 0, `some edits landed in ${region}`);
    }
    assert.ok(stats.authentic.after_end > 0, "edits after the declared end can verify");
  });
});
