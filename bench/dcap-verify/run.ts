/**
 * `npm run bench:dcap`: quotes verified per second, Intel TDX and SGX, through `@cloister/core`
 * and through @phala/dcap-qvl (the oracle) on the same quotes and the same local collateral in
 * the same run: warm (one day's collateral, the same text every time), collateral-cold (a
 * different text every sample) and in a fresh process. See bench/README.md.
 */

import { createRequire } from "node:module";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  type AttestationResult,
  attest,
  type Claims,
  type Evidence,
  type Policy,
  type SgxPlatformClaims,
  TCB_STATUSES,
  type TdxPlatformClaims,
  verifyEvidence,
} from "@cloister/core";
import { type Collateral as OracleCollateral, verify } from "@phala/dcap-qvl";
import { otherShareNote, startCpuMeter } from "../shared/cpu.js";
import { gitState, machine } from "../shared/machine.js";
import { summarize, type Timed, timeLoop } from "../shared/measure.js";
import { COMMON_OPTIONS, wholeNumber } from "../shared/options.js";
import { publishResult } from "../shared/results.js";
import { round } from "../shared/stats.js";
import { COLD_VARIATION, coldCollateralText } from "./collateral.js";
import { type Implementation, measureFirstRuns } from "./first-run.js";
import { cloisterOutcome, expectOutcome, oracleOutcome } from "./outcome.js";
import {
  comparisons,
  type DcapBenchResult,
  formatReport,
  type Row,
  type RowImplementation,
  targets,
  type VectorInfo,
} from "./report.js";
import { type DcapVector, loadVectors } from "./vectors.js";

const ORACLE = "@phala/dcap-qvl";
const ORACLE_VERSION = (
  createRequire(import.meta.url)(`${ORACLE}/package.json`) as {
    version: string;
  }
).version;

const USAGE = `Usage: npm run bench:dcap -- [options]

  --quick          a short run: 60 warm, 30 collateral-cold, 1 fresh process per quote and implementation
  --warm N         measured warm verifications per row (default 500)
  --cold N         measured collateral-cold verifications per row (default 300)
  --rounds N       interleaved rounds each row's samples are split into (default 5)
  --processes N    fresh processes per quote and implementation for process-cold; 0 skips it (default 5)
  --out DIR        where results go (default bench/results)
  -h, --help       this text

Warm-up (discarded): a tenth of the measured count, at least 10.`;

interface Options {
  readonly quick: boolean;
  readonly warm: number;
  readonly cold: number;
  readonly rounds: number;
  readonly processes: number;
  readonly outDir: string;
}

function parseOptions(argv: readonly string[]): Options | "help" {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: "boolean", default: false },
      warm: { type: "string" },
      cold: { type: "string" },
      rounds: { type: "string" },
      processes: { type: "string" },
      ...COMMON_OPTIONS,
    },
    strict: true,
  });
  if (values.help) return "help";
  const quick = values.quick;
  const warm = wholeNumber("--warm", values.warm ?? (quick ? "60" : "500"));
  const cold = wholeNumber("--cold", values.cold ?? (quick ? "30" : "300"));
  return {
    quick,
    warm,
    cold,
    rounds: Math.min(wholeNumber("--rounds", values.rounds ?? (quick ? "2" : "5")), warm, cold),
    processes: wholeNumber("--processes", values.processes ?? (quick ? "1" : "5"), 0),
    outDir: resolve(values.out),
  };
}

const progress = (line: string) => process.stderr.write(`[bench:dcap] ${line}\n`);

/** One row's operation and the check of its result, which runs outside the timing. */
interface Contender {
  readonly implementation: RowImplementation;
  readonly what: string;
  readonly op: (i: number) => unknown;
  readonly check: (result: unknown, i: number) => void;
}

function contender<T>(
  implementation: RowImplementation,
  what: string,
  op: (i: number) => T | Promise<T>,
  check: (result: T, i: number) => void,
): Contender {
  return { implementation, what, op, check: check as (result: unknown, i: number) => void };
}

/**
 * Every contender's warm-up, then its measured samples split into `rounds` consecutive chunks,
 * the contenders taking turns chunk by chunk (in reverse order every other round), so that a
 * change in the machine's speed during the run falls on all of them alike. Sample i is the same
 * input for every contender. The chunks' samples are joined; wall time and heap delta add up.
 */
async function interleaved(
  contenders: readonly Contender[],
  warmup: number,
  n: number,
  rounds: number,
): Promise<Timed[]> {
  for (const c of contenders) for (let i = 0; i < warmup; i++) c.check(await c.op(i), i);
  const parts: Timed[][] = contenders.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const start = Math.floor((r * n) / rounds);
    const end = Math.floor(((r + 1) * n) / rounds);
    const order = contenders.map((_, k) => k);
    if (r % 2 === 1) order.reverse();
    for (const k of order) {
      const c = contenders[k] as Contender;
      const offset = warmup + start;
      (parts[k] as Timed[]).push(
        await timeLoop(
          0,
          end - start,
          (j) => c.op(offset + j),
          (result, j) => c.check(result, offset + j),
        ),
      );
    }
  }
  return parts.map((chunks) => ({
    samplesUs: chunks.flatMap((t) => t.samplesUs),
    wallUs: chunks.reduce((sum, t) => sum + t.wallUs, 0),
    heapUsedDeltaBytes: chunks.reduce((sum, t) => sum + t.heapUsedDeltaBytes, 0),
  }));
}

/** One vector and what both implementations hold for it before any timing. */
interface Case {
  readonly vector: DcapVector;
  readonly evidence: Evidence;
  readonly nowSeconds: number;
  /** The collateral as the oracle takes it, parsed once: all a caller of dcap-qvl can keep. */
  readonly oracleCollateral: OracleCollateral;
  /** Undefined when dcap-qvl accepts the quote; otherwise its error message. */
  readonly oracleRefusal: string | undefined;
  /** Pins what the quote claims, so that attest() appraises every rule it can. */
  readonly policy: Policy;
  readonly attestVerdict: string;
}

async function prepare(vector: DcapVector): Promise<Case> {
  const evidence: Evidence = {
    platform: vector.tee,
    format: `${vector.tee}-quote`,
    data: vector.quote,
  };
  const options = { now: vector.verifyAt, collateral: { dcap_collateral: vector.collateralText } };
  const { claims, checks } = await verifyEvidence(evidence, options);
  if (claims === undefined) {
    throw new Error(`${vector.id} does not verify: ${checks.map((c) => c.message).join(" ")}`);
  }
  expectOutcome(vector, cloisterOutcome(claims), "Cloister", -1);
  const nowSeconds = vector.verifyAt.getTime() / 1000;
  const oracleCollateral = JSON.parse(vector.collateralText) as OracleCollateral;
  let oracleRefusal: string | undefined;
  try {
    expectOutcome(
      vector,
      oracleOutcome(verify(vector.quote, oracleCollateral, nowSeconds)),
      "dcap-qvl",
      -1,
    );
  } catch (e) {
    // A refusal of a quote Cloister accepts is recorded and the quote gets Cloister rows only;
    // a wrong status from the oracle is a broken comparison and stops the run.
    if (e instanceof Error && e.message.startsWith(`${vector.id}:`)) throw e;
    oracleRefusal = e instanceof Error ? e.message : String(e);
  }
  const policy = pinningPolicy(claims, vector);
  const attested = await attest(evidence, policy, options);
  if (attested.verdict === "contraindicated") {
    const failed = attested.checks.filter((c) => c.status === "fail").map((c) => c.message);
    throw new Error(`${vector.id}: attest() refused it with its own claims pinned: ${failed}`);
  }
  return {
    vector,
    evidence,
    nowSeconds,
    oracleCollateral,
    oracleRefusal,
    policy,
    attestVerdict: attested.verdict,
  };
}

/** A policy that pins every value the quote carries and accepts its expected TCB status. */
function pinningPolicy(claims: Claims, vector: DcapVector): Policy {
  const status = TCB_STATUSES.find((s) => s === vector.expectedStatus);
  if (status === undefined)
    throw new Error(`${vector.id}: ${vector.expectedStatus} is no TCB status.`);
  const common = {
    measurements: [claims.measurement],
    ...(claims.hardwareId === undefined ? {} : { hardwareIds: [claims.hardwareId] }),
    allowDebug: claims.debug,
    dcap: { tcbStatuses: [status] },
  };
  if (vector.tee === "tdx") {
    const p = claims.platformClaims as unknown as TdxPlatformClaims;
    return {
      platforms: ["tdx"],
      ...common,
      tdx: {
        rtmrs: { rtmr0: [p.rtmr0], rtmr1: [p.rtmr1], rtmr2: [p.rtmr2], rtmr3: [p.rtmr3] },
        mrSeams: [p.mrSeam],
        mrConfigIds: [p.mrConfigId],
        mrOwners: [p.mrOwner],
        mrOwnerConfigs: [p.mrOwnerConfig],
        xfams: [p.xfam],
        tdAttributes: [p.tdAttributes],
      },
    };
  }
  const p = claims.platformClaims as unknown as SgxPlatformClaims;
  return {
    platforms: ["sgx"],
    ...common,
    sgx: { mrSigners: [p.mrSigner], isvProdIds: [p.isvProdId], minimumIsvSvn: p.isvSvn },
  };
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
  const warmup = {
    warm: Math.max(10, Math.ceil(options.warm / 10)),
    cold: Math.max(10, Math.ceil(options.cold / 10)),
  };
  const cases: Case[] = [];
  for (const vector of loadVectors()) cases.push(await prepare(vector));

  const meter = startCpuMeter(where.cores);
  const rows: Row[] = [];
  const push = (c: Case, mode: Row["mode"], list: readonly Contender[], timed: Timed[]) => {
    list.forEach((k, j) => {
      const t = timed[j] as Timed;
      rows.push({
        vector: c.vector.id,
        tee: c.vector.tee,
        mode,
        implementation: k.implementation,
        what: k.what,
        summary: summarize(t.samplesUs, t.wallUs, t.heapUsedDeltaBytes),
      });
    });
  };

  for (const c of cases) {
    const { vector, evidence, nowSeconds } = c;
    const text = vector.collateralText;
    const warmOptions = { now: vector.verifyAt, collateral: { dcap_collateral: text } };
    const oracleCheck = (report: Parameters<typeof oracleOutcome>[0], i: number) =>
      expectOutcome(vector, oracleOutcome(report), "dcap-qvl", i);
    const cloisterCheck = (r: { claims?: Claims }, i: number) =>
      expectOutcome(vector, cloisterOutcome(r.claims), "Cloister", i);

    progress(`${vector.id}: warm, ${options.warm} (+${warmup.warm}) per implementation`);
    const warm = [
      ...(c.oracleRefusal === undefined
        ? [
            contender(
              "dcap-qvl",
              "verify(quote, collateral, now) with the collateral object parsed once before: every chain, signature and CRL checked again",
              () => verify(vector.quote, c.oracleCollateral, nowSeconds),
              oracleCheck,
            ),
          ]
        : []),
      contender(
        "cloister",
        "verifyEvidence with the same collateral text as before: parsed bundle, chains, keys and collateral signature results come from the caches",
        () => verifyEvidence(evidence, warmOptions),
        cloisterCheck,
      ),
      contender(
        "cloister-attest",
        "attest: verifyEvidence as above, then the common, DCAP and TDX/SGX policy appraisal of a policy pinning every claim",
        () => attest(evidence, c.policy, warmOptions),
        (r: AttestationResult, i) => {
          if (r.verdict !== c.attestVerdict) {
            throw new Error(`${vector.id}: attest sample ${i} gave ${r.verdict}.`);
          }
          cloisterCheck(r, i);
        },
      ),
    ];
    push(c, "warm", warm, await interleaved(warm, warmup.warm, options.warm, options.rounds));

    progress(`${vector.id}: collateral-cold, ${options.cold} (+${warmup.cold}) per implementation`);
    const texts = Array.from({ length: warmup.cold + options.cold }, (_, i) =>
      coldCollateralText(text, i),
    );
    const cold = [
      ...(c.oracleRefusal === undefined
        ? [
            contender(
              "dcap-qvl",
              "JSON.parse of a collateral text never seen before, then verify as in warm",
              (i) => verify(vector.quote, JSON.parse(texts[i] as string), nowSeconds),
              oracleCheck,
            ),
          ]
        : []),
      contender(
        "cloister",
        "verifyEvidence with a collateral text never seen before: the bundle parsed again (JSON, hex CRLs, PEM chains); chains and collateral signature results still cached",
        (i) =>
          verifyEvidence(evidence, {
            now: vector.verifyAt,
            collateral: { dcap_collateral: texts[i] as string },
          }),
        cloisterCheck,
      ),
    ];
    push(
      c,
      "collateral-cold",
      cold,
      await interleaved(cold, warmup.cold, options.cold, options.rounds),
    );
  }
  const { wallSeconds, otherShare } = meter.stop();

  if (options.processes > 0) {
    for (const c of cases) {
      const { vector } = c;
      progress(`${vector.id}: process-cold, ${options.processes} fresh processes each`);
      const implementations: Implementation[] =
        c.oracleRefusal === undefined ? ["cloister", "dcap-qvl"] : ["cloister"];
      const first = await measureFirstRuns(
        vector,
        implementations,
        options.processes,
        (implementation, outcome, k) => expectOutcome(vector, outcome, implementation, k),
      );
      const what: Record<Implementation, string> = {
        "dcap-qvl":
          "first verify in a new process: JSON.parse of the collateral, then as in warm with the JIT cold",
        cloister:
          "first verifyEvidence in a new process: pinned root, both chains, TCB info and QE identity signatures, CRLs, key imports, all verified afresh",
      };
      for (const implementation of implementations) {
        const summary = first[implementation];
        if (summary === undefined) continue;
        rows.push({
          vector: vector.id,
          tee: vector.tee,
          mode: "process-cold",
          implementation,
          what: what[implementation],
          summary,
        });
      }
    }
  }

  const compared = comparisons(rows);
  const result: DcapBenchResult = {
    schema: "cloister/bench/dcap-verify/v1",
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: where,
    git,
    parameters: {
      quick: options.quick,
      warm: { warmup: warmup.warm, iterations: options.warm },
      collateralCold: {
        warmup: warmup.cold,
        iterations: options.cold,
        variation: COLD_VARIATION,
      },
      rounds: options.rounds,
      processColdProcesses: options.processes,
      oracle: { package: ORACLE, version: ORACLE_VERSION },
    },
    vectors: cases.map(vectorInfo),
    rows,
    comparisons: compared,
    cpu: {
      wallSeconds: round(wallSeconds, 1),
      otherShare,
    },
    targets: targets(compared),
    notes: [],
  };
  const final = { ...result, notes: notes(result) };
  await publishResult("dcap-verify", final, options.outDir, formatReport, progress);
}

function vectorInfo(c: Case): VectorInfo {
  const v = c.vector;
  return {
    id: v.id,
    tee: v.tee,
    quoteVersion: v.quoteVersion,
    collateralSource: v.collateralSource,
    collateralBytes: Buffer.byteLength(v.collateralText),
    verifyAt: v.verifyAt.toISOString(),
    expectedStatus: v.expectedStatus,
    expectedAdvisoryIds: v.expectedAdvisoryIds,
    oracle: c.oracleRefusal === undefined ? "accepted" : `refused: ${c.oracleRefusal}`,
    attestVerdict: c.attestVerdict,
  };
}

/** What a reader needs to judge the figures, as measured on this run. */
function notes(result: DcapBenchResult): string[] {
  const list = [
    `All samples run one at a time on one event loop (process-cold: in fresh child processes); each row's samples are split into ${result.parameters.rounds} chunks taken in turn with the other rows of its quote and mode; every result is checked, outside the timing, to be the TCB status and advisories index.json records.`,
    "dcap-qvl keeps nothing between calls: each verify re-checks all three certificate chains, both collateral signatures and the CRLs (node:crypto for signatures, asn1.js for CRLs). Its warm and collateral-cold rows differ only by the JSON.parse of the collateral text.",
    "Cloister's collateral-cold re-parses the bundle but does not re-verify the TCB info and QE identity signatures: their results are kept by signed bytes and signature, which no valid variation of the collateral can change. The process-cold rows verify everything afresh.",
    otherShareNote(result.cpu.otherShare, "while the in-process modes ran"),
  ];
  if (result.rows.some((r) => r.mode === "process-cold")) {
    list.push(
      "Process-cold imports run Cloister's TypeScript sources through tsx (import column); the first-verification figures exclude imports.",
    );
  }
  return list;
}

await main();
