/**
 * `npm run bench:arm`: Arm PSA and CCA attestation tokens verified per second through
 * `@cloister/core`, warm (the same endorsement PEM every time), side by side with the same COSE
 * signatures checked by node:crypto alone. See bench/README.md.
 */

import { createHash, createPublicKey, type KeyObject, verify } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { type Collateral, type Evidence, verifyEvidence } from "@cloister/core";
import { decode, encode } from "cbor2";
import { TESTVECTORS, vectorEntry } from "../../packages/core/test/support/testvectors.js";
import { otherShareNote, startCpuMeter } from "../shared/cpu.js";
import { type GitState, gitState, type Machine, machine } from "../shared/machine.js";
import { type Summary, summarize, timeLoop } from "../shared/measure.js";
import { COMMON_OPTIONS, wholeNumber } from "../shared/options.js";
import { publishResult } from "../shared/results.js";
import { round } from "../shared/stats.js";
import { fixed, table } from "../shared/table.js";

const USAGE = `Usage: npm run bench:arm -- [options]

  --quick          a short run: 200 warm verifications per token and implementation
  --warm N         measured warm verifications per token and implementation (default 2000)
  --out DIR        where results go (default bench/results)
  -h, --help       this text

Warm-up (discarded): a tenth of the measured count, at least 10.`;

/** The index.json entries verified, with the file roles that hold the token and the key. */
const VECTORS = [
  { id: "psa/tf-m-p2-sign1", keyRole: "key" },
  { id: "psa/tf-m-p1-sign1", keyRole: "key" },
  { id: "cca/tf-rmm-token-01", keyRole: "cpak_pem" },
  { id: "cca/tf-rmm-cmw-907", keyRole: "cpak" },
] as const;

/** PSA and CCA tokens carry no time claims: any fixed instant will do. */
const VERIFY_AT = new Date("2026-01-01T00:00:00Z");

type Implementation = "node-crypto" | "cloister";

interface Row {
  readonly vector: string;
  readonly tee: "psa" | "cca";
  readonly mode: "warm";
  readonly implementation: Implementation;
  /** What one sample of this row does, in a sentence. */
  readonly what: string;
  readonly summary: Summary;
}

export interface ArmBenchResult {
  readonly schema: "cloister/bench/arm-verify/v1";
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: Machine;
  readonly git: GitState | null;
  readonly parameters: {
    readonly quick: boolean;
    readonly warm: { readonly warmup: number; readonly iterations: number };
    readonly verifyAt: string;
  };
  readonly vectors: readonly {
    readonly id: string;
    readonly tee: "psa" | "cca";
    readonly token: string;
    readonly tokenBytes: number;
    readonly signatures: number;
  }[];
  readonly rows: readonly Row[];
  readonly cpu: { readonly wallSeconds: number; readonly otherShare: number };
  readonly notes: readonly string[];
}

interface Options {
  readonly quick: boolean;
  readonly warm: number;
  readonly outDir: string;
}

function parseOptions(argv: readonly string[]): Options | "help" {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: "boolean", default: false },
      warm: { type: "string" },
      ...COMMON_OPTIONS,
    },
    strict: true,
  });
  if (values.help) return "help";
  const warm = wholeNumber("--warm", values.warm ?? (values.quick ? "200" : "2000"));
  return { quick: values.quick, warm, outDir: resolve(values.out) };
}

const progress = (line: string) => process.stderr.write(`[bench:arm] ${line}\n`);

/** One token and what both implementations hold for it before any timing. */
interface Case {
  readonly id: string;
  readonly tee: "psa" | "cca";
  readonly tokenPath: string;
  readonly token: Uint8Array;
  readonly evidence: Evidence;
  readonly options: { readonly now: Date; readonly collateral: Collateral };
  /** The baseline's key, parsed once: the PSA IAK or the CCA platform key (CPAK). */
  readonly key: KeyObject;
}

async function loadCases(): Promise<Case[]> {
  return Promise.all(
    VECTORS.map(async ({ id, keyRole }) => {
      const entry = vectorEntry(id);
      const tee = entry.tee;
      if (tee !== "psa" && tee !== "cca") throw new Error(`${id} is not a PSA or CCA vector.`);
      const tokenPath = entry.files.token;
      const keyPath = entry.files[keyRole];
      if (tokenPath === undefined || keyPath === undefined)
        throw new Error(`${id} lacks its token or ${keyRole} file in index.json.`);
      const token = new Uint8Array(await readFile(`${TESTVECTORS}${tokenPath}`));
      const pem = await readFile(`${TESTVECTORS}${keyPath}`, "utf8");
      const evidence: Evidence =
        tee === "psa"
          ? { platform: "psa", format: "psa-token", data: token }
          : { platform: "cca", format: "cca-token", data: token };
      const collateral: Collateral =
        tee === "psa" ? { psa_endorsements: pem } : { cca_platform_keys: pem };
      return {
        id,
        tee,
        tokenPath,
        token,
        evidence,
        options: { now: VERIFY_AT, collateral },
        key: createPublicKey(pem),
      };
    }),
  );
}

/** COSE algorithm (protected header label 1) -> the hash node:crypto signs with. */
const HASH: Readonly<Record<number, string>> = { [-7]: "sha256", [-35]: "sha384" };

interface Tagged {
  readonly tag: number | bigint;
  readonly contents: unknown;
}

const untag = (value: unknown): unknown =>
  typeof value === "object" && value !== null && "tag" in value && "contents" in value
    ? (value as Tagged).contents
    : value;

/** Checks one COSE_Sign1 (RFC 9052 §4.4) with `key`; returns its decoded payload map, or null. */
function verifySign1(value: unknown, key: KeyObject): Map<number, unknown> | null {
  const sign1 = untag(value);
  if (!Array.isArray(sign1) || sign1.length !== 4) return null;
  const [protectedBytes, , payload, signature] = sign1 as [
    Uint8Array,
    unknown,
    Uint8Array,
    Uint8Array,
  ];
  const alg = (decode(protectedBytes) as Map<number, number>).get(1);
  const hash = alg === undefined ? undefined : HASH[alg];
  if (hash === undefined) return null;
  const toBeSigned = encode(["Signature1", protectedBytes, new Uint8Array(0), payload]);
  if (!verify(hash, toBeSigned, { key, dsaEncoding: "ieee-p1363" }, signature)) return null;
  return decode(payload) as Map<number, unknown>;
}

/**
 * The baseline, node:crypto plus cbor2: decode the token, rebuild each Sig_structure and verify
 * it. PSA: one signature with the IAK. CCA: the platform token with the CPAK, the realm token
 * with the RAK it carries (imported each time), and the platform nonce compared with the RAK's
 * SHA-256. No claim beyond those is read or checked.
 */
function baseline(c: Case): boolean {
  const top = untag(decode(c.token));
  if (c.tee === "psa") return verifySign1(top, c.key) !== null;
  if (!(top instanceof Map)) return false;
  const inner = (entry: unknown) =>
    decode(Array.isArray(entry) ? (entry[1] as Uint8Array) : (entry as Uint8Array));
  const platform = verifySign1(inner(top.get(44234)), c.key);
  const realmSign1 = untag(inner(top.get(44241)));
  const realmPayload = Array.isArray(realmSign1)
    ? (decode(realmSign1[2] as Uint8Array) as Map<number, unknown>)
    : undefined;
  const rak = realmPayload?.get(44237);
  if (platform === null || !(rak instanceof Uint8Array) || rak.length !== 97) return false;
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
  const rakKey = createPublicKey({
    key: { kty: "EC", crv: "P-384", x: b64(rak.subarray(1, 49)), y: b64(rak.subarray(49)) },
    format: "jwk",
  });
  if (verifySign1(realmSign1, rakKey) === null) return false;
  const nonce = platform.get(10);
  const digest = createHash("sha256").update(rak).digest();
  return nonce instanceof Uint8Array && digest.equals(nonce);
}

const LABEL: Readonly<Record<Implementation, string>> = {
  "node-crypto": "node:crypto + cbor2",
  cloister: "Cloister verifyEvidence",
};

function formatReport(result: ArmBenchResult): string {
  const m = result.machine;
  const rows = result.rows.map((row) => {
    const s = row.summary;
    const base = result.rows.find(
      (r) => r.vector === row.vector && r.implementation === "node-crypto",
    );
    return [
      row.vector,
      LABEL[row.implementation],
      String(s.n),
      fixed(s.opsPerSecond),
      fixed(s.meanUs),
      fixed(s.p50Us),
      fixed(s.p95Us),
      fixed(s.p99Us),
      base === undefined ? "-" : `${(s.p50Us / base.summary.p50Us).toFixed(2)}x`,
    ];
  });
  return [
    `Arm PSA / CCA token verification — ${result.vectors.length} real tokens, ${m.cpuModel} x${m.cores}, Node ${m.node}`,
    `warm: ${result.parameters.warm.iterations} (+${result.parameters.warm.warmup} warm-up) per token and implementation${result.parameters.quick ? "; --quick" : ""}`,
    "",
    table(
      [
        "token",
        "implementation",
        "n",
        "ops/s",
        "mean µs",
        "p50 µs",
        "p95 µs",
        "p99 µs",
        "p50 ÷ base",
      ],
      rows,
      2,
    ),
    "",
    ...result.notes.map((note) => `- ${note}`),
  ].join("\n");
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === "help") {
    console.log(USAGE);
    return;
  }
  const startedAt = new Date().toISOString();
  const where = machine();
  const git = gitState();
  const cases = await loadCases();
  const warmup = Math.max(10, Math.ceil(options.warm / 10));

  for (const c of cases) {
    const { claims, checks } = await verifyEvidence(c.evidence, c.options);
    if (claims === undefined)
      throw new Error(`${c.id} does not verify: ${checks.map((k) => k.message).join(" ")}`);
    if (!baseline(c)) throw new Error(`${c.id}: the node:crypto baseline does not verify it.`);
  }

  const meter = startCpuMeter(where.cores);
  const rows: Row[] = [];
  for (const c of cases) {
    progress(`${c.id}: ${options.warm} (+${warmup}) per implementation`);
    const failed = (i: number) => new Error(`${c.id}: sample ${i} did not verify.`);
    const base = await timeLoop(
      warmup,
      options.warm,
      () => baseline(c),
      (ok, i) => {
        if (!ok) throw failed(i);
      },
    );
    const cloister = await timeLoop(
      warmup,
      options.warm,
      () => verifyEvidence(c.evidence, c.options),
      (r, i) => {
        if (r.claims === undefined) throw failed(i);
      },
    );
    const signatures = c.tee === "psa" ? "the ECDSA signature" : "both ECDSA P-384 signatures";
    rows.push(
      {
        vector: c.id,
        tee: c.tee,
        mode: "warm",
        implementation: "node-crypto",
        what: `cbor2 decode, Sig_structure re-encoded and ${signatures} checked by crypto.verify with the key parsed before${c.tee === "cca" ? " (the RAK imported each time, the binding hash compared)" : ""}`,
        summary: summarize(base.samplesUs, base.wallUs, base.heapUsedDeltaBytes),
      },
      {
        vector: c.id,
        tee: c.tee,
        mode: "warm",
        implementation: "cloister",
        what: "verifyEvidence with the same endorsement PEM text every time: token parsed, signatures and claims checked, claims built",
        summary: summarize(cloister.samplesUs, cloister.wallUs, cloister.heapUsedDeltaBytes),
      },
    );
  }
  const { wallSeconds, otherShare } = meter.stop();

  const result: ArmBenchResult = {
    schema: "cloister/bench/arm-verify/v1",
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: where,
    git,
    parameters: {
      quick: options.quick,
      warm: { warmup, iterations: options.warm },
      verifyAt: VERIFY_AT.toISOString(),
    },
    vectors: cases.map((c) => ({
      id: c.id,
      tee: c.tee,
      token: c.tokenPath,
      tokenBytes: c.token.length,
      signatures: c.tee === "psa" ? 1 : 2,
    })),
    rows,
    cpu: { wallSeconds: round(wallSeconds, 1), otherShare },
    notes: [
      "All samples run one at a time in this process, each token's baseline row then its Cloister row; every result is checked to have verified, outside the timing.",
      "The baseline checks signatures (and for CCA the realm-key binding) only: Cloister also validates every claim's type and size and builds the claims object.",
      otherShareNote(otherShare, "during the run"),
    ],
  };
  await publishResult("arm-verify", result, options.outDir, formatReport, progress);
}

await main();
