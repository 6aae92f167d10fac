/**
 * `npm run bench:snp`: verifications per second of real AMD SEV-SNP reports through
 * `@cloister/core`, warm (chain cached), cold (every certificate parsed and verified again) and in
 * a fresh process, side by side with the same signatures checked by node:crypto alone. See
 * bench/README.md.
 */

import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  attest,
  type Collateral,
  type Evidence,
  type Policy,
  verifyEvidence,
} from "@cloister/core";
import { otherShareNote, startCpuMeter } from "../shared/cpu.js";
import { gitState, machine } from "../shared/machine.js";
import { type Summary, summarize, type Timed, timeLoop } from "../shared/measure.js";
import { COMMON_OPTIONS, wholeNumber } from "../shared/options.js";
import { publishResult } from "../shared/results.js";
import { round } from "../shared/stats.js";
import {
  type PinnedKeys,
  pinIntermediate,
  type SignerKey,
  verifyReport,
  verifySigner,
} from "./baseline.js";
import { type ColdCollateral, coldCollateral, ENCODING_MEANING, ENCODINGS } from "./collateral.js";
import { measureFirstRuns } from "./first-run.js";
import { comparisons, formatReport, type Row, type SnpBenchResult, targets } from "./report.js";
import { loadVectors, type SnpVector } from "./vectors.js";

const USAGE = `Usage: npm run bench:snp -- [options]

  --quick          a short run: 200 warm, 60 cold, 3 fresh processes per implementation
  --warm N         measured warm verifications per implementation (default 2000)
  --cold N         measured cold verifications per implementation (default 500)
  --processes N    fresh processes per implementation for process-cold; 0 skips it (default 20)
  --out DIR        where results go (default bench/results)
  -h, --help       this text

Warm-up (discarded): a tenth of the measured count, at least two passes over the vectors (warm)
or one (cold).`;

interface Options {
  readonly quick: boolean;
  readonly warm: number;
  readonly cold: number;
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
      processes: { type: "string" },
      ...COMMON_OPTIONS,
    },
    strict: true,
  });
  if (values.help) return "help";
  const quick = values.quick;
  return {
    quick,
    warm: wholeNumber("--warm", values.warm ?? (quick ? "200" : "2000")),
    cold: wholeNumber("--cold", values.cold ?? (quick ? "60" : "500")),
    processes: wholeNumber("--processes", values.processes ?? (quick ? "3" : "20"), 0),
    outDir: resolve(values.out),
  };
}

const progress = (line: string) => process.stderr.write(`[bench:snp] ${line}\n`);

const row = (
  mode: Row["mode"],
  implementation: Row["implementation"],
  what: string,
  timed: Timed,
): Row => ({
  mode,
  implementation,
  what,
  summary: summarize(timed.samplesUs, timed.wallUs, timed.heapUsedDeltaBytes),
});

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === "help") {
    console.log(USAGE);
    return;
  }
  const startedAt = new Date().toISOString();
  const where = machine();
  const git = gitState();
  const vectors = loadVectors();
  const count = vectors.length;
  const warmup = {
    warm: Math.max(2 * count, Math.ceil(options.warm / 10)),
    cold: Math.max(count, Math.ceil(options.cold / 10)),
  };

  const cases = await prepare(vectors);
  const at = (i: number) => cases[i % count] as Case;
  const verified = (ok: boolean, i: number) => {
    if (!ok) throw new Error(`${at(i).vector.id}: sample ${i} did not verify.`);
  };

  const meter = startCpuMeter(where.cores);
  const rows: Row[] = [];

  progress(`warm: ${options.warm} (+${warmup.warm}) per implementation over ${count} reports`);
  rows.push(
    row(
      "warm",
      "node-crypto",
      "crypto.verify (ECDSA P-384, SHA-384) of the report with the VCEK's KeyObject kept from before; validity window compared",
      await timeLoop(
        warmup.warm,
        options.warm,
        (i) => verifyReport(at(i).vector.report, at(i).signerKey, at(i).vector.verifyAt),
        verified,
      ),
    ),
    row(
      "warm",
      "cloister",
      "verifyEvidence with the same certificate collateral as before: its chain comes from the cache",
      await timeLoop(
        warmup.warm,
        options.warm,
        (i) => verifyEvidence(at(i).evidence, at(i).warmOptions),
        (r, i) => verified(r.claims !== undefined, i),
      ),
    ),
    row(
      "warm",
      "cloister-attest",
      "attest: verifyEvidence as above, then the common and SEV-SNP policy appraisal",
      await timeLoop(
        warmup.warm,
        options.warm,
        (i) => attest(at(i).evidence, at(i).policy, at(i).warmOptions),
        (r, i) => verified(r.claims !== undefined && r.verdict !== "contraindicated", i),
      ),
    ),
  );

  progress(`cold: ${options.cold} (+${warmup.cold}) per implementation`);
  const cold: ColdCollateral[] = Array.from({ length: warmup.cold + options.cold }, (_, i) =>
    coldCollateral(at(i).vector, i),
  );
  const coldBaseline = await timeLoop(
    warmup.cold,
    options.cold,
    (i) => {
      const { vector, pinned } = at(i);
      const signer = verifySigner((cold[i] as ColdCollateral).collateral, pinned);
      return verifyReport(vector.report, signer, vector.verifyAt);
    },
    verified,
  );
  const coldCloister = await timeLoop(
    warmup.cold,
    options.cold,
    (i) =>
      verifyEvidence(at(i).evidence, {
        now: at(i).vector.verifyAt,
        collateral: (cold[i] as ColdCollateral).collateral,
      }),
    (r, i) => verified(r.claims !== undefined, i),
  );
  rows.push(
    {
      ...row(
        "cold",
        "node-crypto",
        "every certificate in the collateral parsed (X509Certificate), the VCEK's RSA-PSS signature verified with the pinned ASK key, then the report as in warm",
        coldBaseline,
      ),
      byEncoding: byEncoding(coldBaseline, warmup.cold, cold),
    },
    {
      ...row(
        "cold",
        "cloister",
        "verifyEvidence with certificate collateral never seen before: parse, VCEK -> pinned ASK signature, key import, report signature",
        coldCloister,
      ),
      byEncoding: byEncoding(coldCloister, warmup.cold, cold),
    },
  );
  const { wallSeconds, otherShare } = meter.stop();

  if (options.processes > 0) {
    progress(`process-cold: ${options.processes} fresh processes per implementation`);
    const first = await measureFirstRuns(vectors, options.processes, progress);
    rows.push(
      {
        mode: "process-cold",
        implementation: "node-crypto",
        what: "first verification in a new process: ARK and ASK parsed, ARK self-signature and ARK -> ASK verified, then as in cold",
        summary: first["node-crypto"],
      },
      {
        mode: "process-cold",
        implementation: "cloister",
        what: "first verifyEvidence in a new process: pinned roots parsed and verified, keys imported, then as in cold",
        summary: first.cloister,
      },
    );
  }

  const result: SnpBenchResult = {
    schema: "cloister/bench/snp-verify/v1",
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: where,
    git,
    parameters: {
      quick: options.quick,
      warm: { warmup: warmup.warm, iterations: options.warm },
      cold: { warmup: warmup.cold, iterations: options.cold },
      processColdProcesses: options.processes,
      encodings: ENCODING_MEANING,
    },
    vectors: vectors.map((v) => ({
      id: v.id,
      product: v.product,
      kind: v.kind,
      verifyAt: v.verifyAt.toISOString(),
    })),
    rows,
    comparisons: comparisons(rows),
    cpu: {
      wallSeconds: round(wallSeconds, 1),
      otherShare,
    },
    targets: targets(rows),
    notes: [],
  };
  const final = { ...result, notes: notes(result) };
  await publishResult("snp-verify", final, options.outDir, formatReport, progress);
}

/** One vector and what both implementations hold for it before any timing. */
interface Case {
  readonly vector: SnpVector;
  readonly evidence: Evidence;
  readonly warmOptions: { readonly now: Date; readonly collateral: Collateral };
  /** Pins what the report claims, so that attest() appraises every rule it can. */
  readonly policy: Policy;
  /** The baseline's pinned intermediate, verified against the ARK. */
  readonly pinned: PinnedKeys;
  /** The baseline's warm state: the VCEK's key, its chain verified. */
  readonly signerKey: SignerKey;
}

/** Verifies every vector once with both implementations, which also fills Cloister's caches. */
async function prepare(vectors: readonly SnpVector[]): Promise<Case[]> {
  const cases: Case[] = [];
  for (const vector of vectors) {
    const evidence: Evidence = { platform: "sev-snp", format: "snp-report", data: vector.report };
    const warmOptions = { now: vector.verifyAt, collateral: { certificates: vector.signer } };
    const { claims, checks } = await verifyEvidence(evidence, warmOptions);
    if (claims === undefined) {
      throw new Error(`${vector.id} does not verify: ${checks.map((c) => c.message).join(" ")}`);
    }
    const policy: Policy = {
      platforms: ["sev-snp"],
      measurements: [claims.measurement],
      ...(claims.hardwareId === undefined ? {} : { hardwareIds: [claims.hardwareId] }),
      allowDebug: claims.debug,
      snp: { products: [vector.product], signingKeys: [vector.kind] },
    };
    const pinned = pinIntermediate(vector.ark, vector.intermediate);
    const signerKey = verifySigner({ certificates: vector.signer }, pinned);
    cases.push({ vector, evidence, warmOptions, policy, pinned, signerKey });
  }
  return cases;
}

/** Cold samples grouped by the encoding of their collateral. */
function byEncoding(
  timed: Timed,
  warmup: number,
  cold: readonly ColdCollateral[],
): Partial<Record<(typeof ENCODINGS)[number], Summary>> {
  return Object.fromEntries(
    ENCODINGS.map((encoding) => {
      const samples = timed.samplesUs.filter(
        (_, j) => (cold[warmup + j] as ColdCollateral).encoding === encoding,
      );
      return [
        encoding,
        summarize(
          samples,
          samples.reduce((sum, v) => sum + v, 0),
          null,
        ),
      ];
    }),
  );
}

/** What a reader needs to judge the figures, as measured on this run. */
function notes(result: SnpBenchResult): string[] {
  const list = [
    "All samples run one at a time in this process (process-cold: in fresh child processes), blocks in the order of the table; every result is checked to have verified, outside the timing.",
    "The node:crypto baseline checks signatures and validity only: it does not compare the VCEK's TCB and hwID extensions with the report, screen supplied certificates against the pinned fingerprints, or build claims.",
    otherShareNote(result.cpu.otherShare, "while the in-process modes ran"),
  ];
  if (result.rows.some((r) => r.mode === "process-cold")) {
    list.push(
      "Process-cold imports run TypeScript sources through tsx (import column); the first-verification figures exclude them.",
    );
  }
  return list;
}

await main();
