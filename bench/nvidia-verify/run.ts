/**
 * `npm run bench:nvidia`: NVIDIA GPU evidences verified per second through `@cloister/core`
 * (signature and chain; then also the driver and VBIOS RIMs), side by side in the same run with
 * the SPDM signature alone checked by node:crypto. See bench/README.md.
 */

import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { nodeRimVerifier } from "@cloister/client";
import {
  type Check,
  compareMeasurements,
  parseGpuEvidence,
  parseGpuEvidenceInput,
  verifyGpuEvidence,
} from "@cloister/core";
import { TESTVECTORS, vectorEntry } from "../../packages/core/test/support/testvectors.js";
import { otherShareNote, startCpuMeter } from "../shared/cpu.js";
import { type GitState, gitState, type Machine, machine } from "../shared/machine.js";
import { type Summary, summarize, timeLoop } from "../shared/measure.js";
import { COMMON_OPTIONS, wholeNumber } from "../shared/options.js";
import { publishResult } from "../shared/results.js";
import { percentile, round } from "../shared/stats.js";
import { fixed, table } from "../shared/table.js";

const USAGE = `Usage: npm run bench:nvidia -- [options]

  --quick            a short run: 3 rounds of 50 (5 with RIMs) per row
  --iterations N     measured evidences per round, signature rows (default 300)
  --rim-iterations N measured evidences per round with RIMs, ~0.1 s each (default 30)
  --rounds N         rounds; each row's figure is the median over them (default 5)
  --out DIR        where results go (default bench/results)
  -h, --help       this text

Warm-up (discarded): a tenth of the measured count, at least 2, before each row's round.`;

const VECTOR = "nvidia/nvtrust-h100-sample";
/** Inside every certificate's validity: the device chain (to 9999) and both RIMs' signers (2023-06 to 2025-06). */
const VERIFY_AT = new Date("2024-06-01T00:00:00Z");
/** The sample RIMs are not those of the sample report: these RIM indexes differ (see the CLI tests). */
const EXPECTED_MISMATCHES = 20;

const ROWS = ["node-crypto", "cloister-verify", "cloister-verify-rims"] as const;
type RowName = (typeof ROWS)[number];

const WHAT: Readonly<Record<RowName, string>> = {
  "node-crypto":
    "crypto.verify('sha384', request‖response without its signature, {key, dsaEncoding: 'ieee-p1363'}, r‖s) with the leaf's KeyObject and the byte ranges found before: the floor",
  "cloister-verify":
    "parseGpuEvidence(bytes) then verifyGpuEvidence(evidence, chainPem, {now, nonce}): nonce, ECDSA P-384 signature (WebCrypto), the five-certificate chain parsed and checked to the pinned NVIDIA root, FWID, claims",
  "cloister-verify-rims":
    "as cloister-verify, then nodeRimVerifier().verify on the driver and the VBIOS RIM (XML parse, XML-DSig ECDSA P-384, chain to the pinned RIM root) and compareMeasurements of both with the evidence's 64 measurements",
};

const LABEL: Readonly<Record<RowName, string>> = {
  "node-crypto": "node:crypto signature only",
  "cloister-verify": "parse + verify (sig + chain)",
  "cloister-verify-rims": "+ 2 RIMs + comparison",
};

interface Row {
  readonly row: RowName;
  readonly what: string;
  /** Evidences per second, one at a time, in each round. */
  readonly roundOpsPerSecond: readonly number[];
  /** The median of roundOpsPerSecond: the row's figure. */
  readonly medianOpsPerSecond: number;
  /** Every measured sample of every round together. */
  readonly summary: Summary;
}

export interface NvidiaBenchResult {
  readonly schema: "cloister/bench/nvidia-verify/v1";
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: Machine;
  readonly git: GitState | null;
  readonly parameters: {
    readonly quick: boolean;
    readonly rounds: number;
    /** Measured samples per round: the signature rows, then the RIM row. */
    readonly iterations: number;
    readonly rimIterations: number;
    readonly verifyAt: string;
  };
  readonly vector: {
    readonly id: string;
    readonly evidenceBytes: number;
    readonly chainCertificates: number;
    readonly measurements: number;
    readonly rims: readonly { readonly file: string; readonly bytes: number }[];
  };
  readonly rows: readonly Row[];
  readonly cpu: { readonly wallSeconds: number; readonly otherShare: number };
  readonly notes: readonly string[];
}

interface Options {
  readonly quick: boolean;
  readonly iterations: number;
  readonly rimIterations: number;
  readonly rounds: number;
  readonly outDir: string;
}

function parseOptions(argv: readonly string[]): Options | "help" {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: "boolean", default: false },
      iterations: { type: "string" },
      "rim-iterations": { type: "string" },
      rounds: { type: "string" },
      ...COMMON_OPTIONS,
    },
    strict: true,
  });
  if (values.help) return "help";
  return {
    quick: values.quick,
    iterations: wholeNumber("--iterations", values.iterations ?? (values.quick ? "50" : "300")),
    rimIterations: wholeNumber(
      "--rim-iterations",
      values["rim-iterations"] ?? (values.quick ? "5" : "30"),
    ),
    rounds: wholeNumber("--rounds", values.rounds ?? (values.quick ? "3" : "5")),
    outDir: resolve(values.out),
  };
}

const progress = (line: string) => process.stderr.write(`[bench:nvidia] ${line}\n`);

/** What every row holds before any timing. */
interface Case {
  readonly bytes: Uint8Array;
  readonly chain: string;
  readonly nonce: Uint8Array;
  readonly rimXml: readonly string[];
  readonly rimFiles: readonly string[];
  /** The baseline's inputs: the signed range, the signature and the leaf's key, found before. */
  readonly signed: Uint8Array;
  readonly signature: Uint8Array;
  readonly leafKey: KeyObject;
  readonly chainCertificates: number;
  readonly measurements: number;
}

async function loadCase(): Promise<Case> {
  const entry = vectorEntry(VECTOR);
  const file = (role: string) => {
    const path = entry.files[role];
    if (path === undefined) throw new Error(`${VECTOR} has no ${role} file in index.json.`);
    return path;
  };
  const nonceHex = /nonce ([0-9a-f]{64})/.exec(entry.expected)?.[1];
  if (nonceHex === undefined) throw new Error(`${VECTOR}: no nonce in its expected text.`);
  const [input] = parseGpuEvidenceInput(
    await readFile(`${TESTVECTORS}${file("report_hex")}`, "utf8"),
  );
  if (input === undefined) throw new Error(`${VECTOR}: no evidence in the report.`);
  const chain = await readFile(`${TESTVECTORS}${file("cert_chain")}`, "utf8");
  const rimFiles = [file("driver_rim"), file("vbios_rim")];
  const rimXml = await Promise.all(rimFiles.map((f) => readFile(`${TESTVECTORS}${f}`, "utf8")));
  const evidence = parseGpuEvidence(input.evidence);
  const pems = chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const leaf = pems[0];
  if (leaf === undefined) throw new Error(`${VECTOR}: the chain has no certificate.`);
  return {
    bytes: input.evidence,
    chain,
    nonce: Buffer.from(nonceHex, "hex"),
    rimXml,
    rimFiles,
    signed: evidence.signedBytes,
    signature: evidence.response.signature,
    leafKey: createPublicKey(leaf),
    chainCertificates: pems.length,
    measurements: evidence.response.blocks.length,
  };
}

const rimVerifier = nodeRimVerifier();

function baseline(c: Case): boolean {
  return verify("sha384", c.signed, { key: c.leafKey, dsaEncoding: "ieee-p1363" }, c.signature);
}

async function cloisterVerify(c: Case) {
  const evidence = parseGpuEvidence(c.bytes);
  return verifyGpuEvidence(evidence, c.chain, { now: VERIFY_AT, nonce: c.nonce });
}

/** The verification's claims and the comparison's checks; what the check sees is outside the timing. */
async function cloisterVerifyRims(c: Case): Promise<{ authentic: boolean; checks: Check[] }> {
  const { claims } = await cloisterVerify(c);
  if (claims === undefined) return { authentic: false, checks: [] };
  const rims = await Promise.all(
    c.rimXml.map((xml) => rimVerifier.verify(xml, { now: VERIFY_AT })),
  );
  // RIM index = SPDM block index − 1.
  const runtime = new Map(
    Object.entries(claims.measurements).map(([block, value]) => [Number(block) - 1, value]),
  );
  return {
    authentic: true,
    checks: compareMeasurements(
      rims.map((r) => r.rim),
      runtime,
    ),
  };
}

/** One round of one row: its samples and its evidences per second. */
async function round1(c: Case, row: RowName, warmup: number, n: number) {
  const failed = (i: number) => new Error(`${row}: sample ${i} did not verify.`);
  switch (row) {
    case "node-crypto":
      return timeLoop(
        warmup,
        n,
        () => baseline(c),
        (ok, i) => {
          if (!ok) throw failed(i);
        },
      );
    case "cloister-verify":
      return timeLoop(
        warmup,
        n,
        () => cloisterVerify(c),
        (r, i) => {
          if (r.claims === undefined) throw failed(i);
        },
      );
    case "cloister-verify-rims":
      return timeLoop(
        warmup,
        n,
        () => cloisterVerifyRims(c),
        (r, i) => {
          const mismatches = r.checks.filter((k) => k.status === "fail").length;
          if (!r.authentic || mismatches !== EXPECTED_MISMATCHES) throw failed(i);
        },
      );
  }
}

function formatReport(result: NvidiaBenchResult): string {
  const m = result.machine;
  const base = result.rows.find((r) => r.row === "node-crypto");
  const rows = result.rows.map((row) => {
    const s = row.summary;
    return [
      LABEL[row.row],
      String(s.n),
      fixed(row.medianOpsPerSecond),
      fixed(s.meanUs),
      fixed(s.p50Us),
      fixed(s.p95Us),
      fixed(s.p99Us),
      base === undefined ? "-" : `${(s.p50Us / base.summary.p50Us).toFixed(1)}x`,
    ];
  });
  const p = result.parameters;
  return [
    `NVIDIA GPU evidence verification — ${result.vector.id}, ${m.cpuModel} x${m.cores}, Node ${m.node}`,
    `${p.rounds} rounds of ${p.iterations} per signature row and ${p.rimIterations} with RIMs (after a tenth more, at least 2, of warm-up); ops/s is the median over rounds${p.quick ? "; --quick" : ""}`,
    "",
    table(["row", "n", "ops/s", "mean µs", "p50 µs", "p95 µs", "p99 µs", "p50 ÷ base"], rows, 1),
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
  const c = await loadCase();
  const counts = (row: RowName) => {
    const n = row === "cloister-verify-rims" ? options.rimIterations : options.iterations;
    return { n, warmup: Math.max(2, Math.ceil(n / 10)) };
  };

  const meter = startCpuMeter(where.cores);
  const samples = new Map<RowName, { us: number[]; wallUs: number; heap: number; ops: number[] }>(
    ROWS.map((row) => [row, { us: [], wallUs: 0, heap: 0, ops: [] }]),
  );
  // Rounds interleave the rows, so that a slow spell of the machine falls on all of them.
  for (let r = 0; r < options.rounds; r++) {
    progress(`round ${r + 1}/${options.rounds}`);
    for (const row of ROWS) {
      const { n, warmup } = counts(row);
      const timed = await round1(c, row, warmup, n);
      const acc = samples.get(row) as { us: number[]; wallUs: number; heap: number; ops: number[] };
      acc.us.push(...timed.samplesUs);
      acc.wallUs += timed.wallUs;
      acc.heap = timed.heapUsedDeltaBytes;
      acc.ops.push(round(n / (timed.wallUs / 1e6), 1));
    }
  }
  const { wallSeconds, otherShare } = meter.stop();
  const rows: Row[] = ROWS.map((row) => {
    const acc = samples.get(row) as { us: number[]; wallUs: number; heap: number; ops: number[] };
    return {
      row,
      what: WHAT[row],
      roundOpsPerSecond: acc.ops,
      medianOpsPerSecond: round(
        percentile(
          [...acc.ops].sort((a, b) => a - b),
          50,
        ),
        1,
      ),
      summary: summarize(acc.us, acc.wallUs, acc.heap),
    };
  });

  const result: NvidiaBenchResult = {
    schema: "cloister/bench/nvidia-verify/v1",
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: where,
    git,
    parameters: {
      quick: options.quick,
      rounds: options.rounds,
      iterations: options.iterations,
      rimIterations: options.rimIterations,
      verifyAt: VERIFY_AT.toISOString(),
    },
    vector: {
      id: VECTOR,
      evidenceBytes: c.bytes.length,
      chainCertificates: c.chainCertificates,
      measurements: c.measurements,
      rims: c.rimFiles.map((file, i) => ({
        file,
        bytes: Buffer.byteLength(c.rimXml[i] as string),
      })),
    },
    rows,
    cpu: { wallSeconds: round(wallSeconds, 1), otherShare },
    notes: [
      "Every sample runs alone on one event loop; every result is checked outside the timing (the baseline's signature verifies, Cloister's claims are present, the RIM comparison finds the sample's 20 known mismatches).",
      "Cloister's NVIDIA path caches only the two pinned roots (parsed once per process): each sample parses and checks the device chain and both RIMs anew, as a verifier handed fresh evidence does.",
      "The baseline checks the signature only: no nonce, chain, FWID or claims.",
      otherShareNote(otherShare, "during the run"),
    ],
  };
  await publishResult("nvidia-verify", result, options.outDir, formatReport, progress);
}

await main();
