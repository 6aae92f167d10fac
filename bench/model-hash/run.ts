/**
 * `npm run bench:model-hash`: MB/s of hashing model files from the page cache with Cloister's
 * hashModel, side by side in one run with `openssl dgst -sha256`, `sha256sum` and a naive
 * node:crypto stream, on the same files. See bench/README.md.
 */

import { execFile } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, open, readFile, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs, promisify } from "node:util";
import { build } from "esbuild";
import { startCpuMeter } from "../shared/cpu.js";
import { type GitState, gitState, type Machine, machine } from "../shared/machine.js";
import { COMMON_OPTIONS, wholeNumber } from "../shared/options.js";
import { publishResult } from "../shared/results.js";
import { round } from "../shared/stats.js";
import { table } from "../shared/table.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const HASHING = join(REPO, "packages/server/src/models/hashing");
const MiB = 1024 * 1024;
const run = promisify(execFile);

const USAGE = `Usage: npm run bench:model-hash -- [options]

  --size SIZE      the single file's size, and the multi-file set's total (default 1GiB);
                   a number of bytes or with KiB, MiB, GiB
  --files N        files in the multi-file set (default 4)
  --reps N         measured repetitions of every row (default 5; one more runs first, unmeasured)
  --source         hash with the TypeScript source through tsx, as the tests do, instead of an
                   esbuild build like the published dist (workers then take ~0.2 s to start)
  --out DIR        where results go (default bench/results)
  -h, --help       this text`;

type Implementation =
  | "cloister"
  | "cloister-1-thread"
  | "openssl"
  | "openssl-parallel"
  | "sha256sum"
  | "node-stream";
type FileSet = "single" | "multi";

interface Row {
  readonly set: FileSet;
  readonly implementation: Implementation;
  /** What one sample does, in a sentence. */
  readonly what: string;
  readonly threads: number;
  readonly samplesSeconds: readonly number[];
  readonly medianSeconds: number;
  /** Decimal megabytes per second over the median sample. */
  readonly mbPerSecond: number;
}

interface Ratio {
  readonly set: FileSet;
  readonly implementation: Implementation;
  readonly baseline: Implementation;
  /** Row MB/s over the baseline's MB/s: above 1 is faster. */
  readonly ratio: number;
}

export interface ModelHashBenchResult {
  readonly schema: "cloister/bench/model-hash/v1";
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: Machine & {
    readonly shaNi: boolean;
    readonly openssl: string;
    readonly sha256sum: string;
  };
  readonly git: GitState | null;
  readonly parameters: {
    readonly sizeBytes: number;
    readonly files: number;
    readonly reps: number;
    readonly build: "esbuild" | "source";
    readonly workers: number;
  };
  /** SHA-256 of each file as openssl gave it; every row's digests were checked against these. */
  readonly digests: { readonly single: readonly string[]; readonly multi: readonly string[] };
  readonly rows: readonly Row[];
  readonly ratios: readonly Ratio[];
  readonly targets: readonly {
    readonly what: string;
    readonly value: number;
    readonly goal: number;
    readonly met: boolean;
  }[];
  readonly cpu: { readonly wallSeconds: number; readonly otherShare: number };
  readonly notes: readonly string[];
}

interface Options {
  readonly size: number;
  readonly files: number;
  readonly reps: number;
  readonly source: boolean;
  readonly outDir: string;
}

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/i.exec(text.trim());
  const unit = { b: 1, kib: 1024, mib: MiB, gib: 1024 * MiB }[
    (match?.[2] ?? "b").toLowerCase() as "b"
  ];
  const bytes = Math.round(Number(match?.[1]) * unit);
  if (match === null || !Number.isSafeInteger(bytes) || bytes < 1)
    throw new Error(`--size must be a positive size such as 1GiB or 4096, not "${text}".`);
  return bytes;
}

function parseOptions(argv: readonly string[]): Options | "help" {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      size: { type: "string", default: "1GiB" },
      files: { type: "string", default: "4" },
      reps: { type: "string", default: "5" },
      source: { type: "boolean", default: false },
      ...COMMON_OPTIONS,
    },
    strict: true,
  });
  if (values.help) return "help";
  return {
    size: parseSize(values.size),
    files: wholeNumber("--files", values.files),
    reps: wholeNumber("--reps", values.reps),
    source: values.source,
    outDir: resolve(values.out),
  };
}

const progress = (line: string) => process.stderr.write(`[bench:model-hash] ${line}\n`);

type HashModel = typeof import("../../packages/server/src/models/hashing/hash-model.js").hashModel;

/**
 * hashModel as users run it: bundled by esbuild (the worker a separate plain-JS entry, as in
 * dist/), since under tsx every worker thread loads the TypeScript loader before hashing.
 */
async function loadHashModel(source: boolean, buildDir: string): Promise<HashModel> {
  if (source)
    return (await import("../../packages/server/src/models/hashing/hash-model.js")).hashModel;
  await build({
    entryPoints: [join(HASHING, "hash-model.ts"), join(HASHING, "hash-worker.ts")],
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outdir: buildDir,
    conditions: ["source"],
    logLevel: "warning",
  });
  const built = (await import(pathToFileURL(join(buildDir, "hash-model.js")).href)) as {
    hashModel: HashModel;
  };
  return built.hashModel;
}

/** Writes `size` random bytes to `path`, 16 MiB at a time. */
async function writeRandom(path: string, size: number): Promise<void> {
  const handle = await open(path, "w");
  const chunk = Buffer.allocUnsafe(16 * MiB);
  try {
    for (let done = 0; done < size; ) {
      const n = Math.min(chunk.length, size - done);
      randomFillSync(chunk, 0, n);
      await handle.write(chunk, 0, n);
      done += n;
    }
  } finally {
    await handle.close();
  }
}

/** `openssl dgst -sha256 -r` output: "<hex> *<path>" per line. */
const firstColumn = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "");

async function openssl(paths: readonly string[]): Promise<string[]> {
  return firstColumn((await run("openssl", ["dgst", "-sha256", "-r", ...paths])).stdout);
}

/** One openssl process per file, `parallel` at a time: what a shell script could do. */
async function opensslParallel(paths: readonly string[], parallel: number): Promise<string[]> {
  const out: string[] = new Array(paths.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < paths.length; i = next++) {
      out[i] = (await openssl([paths[i] as string]))[0] as string;
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, paths.length) }, lane));
  return out;
}

async function sha256sum(paths: readonly string[]): Promise<string[]> {
  return firstColumn((await run("sha256sum", [...paths])).stdout);
}

/** The naive way: createReadStream (64 KiB chunks) piped into createHash, file after file. */
async function nodeStream(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    const hash = createHash("sha256");
    await pipeline(createReadStream(path), hash);
    out.push(hash.digest("hex"));
  }
  return out;
}

interface Case {
  readonly set: FileSet;
  readonly implementation: Implementation;
  readonly what: string;
  readonly threads: number;
  readonly run: () => Promise<string[]>;
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const LABEL: Readonly<Record<Implementation, string>> = {
  cloister: "Cloister hashModel",
  "cloister-1-thread": "Cloister hashModel, 1 thread",
  openssl: "openssl dgst -sha256",
  "openssl-parallel": "openssl, a process per file",
  sha256sum: "sha256sum (coreutils)",
  "node-stream": "createReadStream + createHash",
};

function formatReport(result: ModelHashBenchResult): string {
  const m = result.machine;
  const p = result.parameters;
  const base = (row: Row) =>
    result.rows.find((r) => r.set === row.set && r.implementation === "openssl");
  const rows = result.rows.map((row) => [
    row.set === "single" ? "1 file" : `${p.files} files`,
    LABEL[row.implementation],
    String(row.threads),
    row.mbPerSecond.toFixed(0),
    row.medianSeconds.toFixed(3),
    `${(row.mbPerSecond / (base(row)?.mbPerSecond ?? Number.NaN)).toFixed(2)}x`,
  ]);
  return [
    `Model hashing from the page cache — ${(p.sizeBytes / MiB).toFixed(0)} MiB, ${m.cpuModel} x${m.cores}${m.shaNi ? " (SHA-NI)" : ""}, Node ${m.node}, ${m.openssl}`,
    `median of ${p.reps} per row; hashModel from ${p.build === "esbuild" ? "an esbuild build" : "TypeScript source"}`,
    "",
    table(["files", "implementation", "threads", "MB/s", "median s", "÷ openssl"], rows, 2),
    "",
    ...result.targets.map(
      (t) => `${t.met ? "met" : "MISSED"}: ${t.what}: ${t.value.toFixed(2)} (goal ${t.goal})`,
    ),
    ...result.notes.map((note) => `- ${note}`),
  ].join("\n");
}

async function toolVersions() {
  const cpuinfo = await readFile("/proc/cpuinfo", "utf8").catch(() => "");
  return {
    shaNi: /^flags\s*:.*\bsha_ni\b/m.test(cpuinfo),
    openssl: (await run("openssl", ["version"])).stdout.trim(),
    sha256sum: (await run("sha256sum", ["--version"])).stdout.split("\n")[0]?.trim() ?? "",
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === "help") {
    console.log(USAGE);
    return;
  }
  const startedAt = new Date().toISOString();
  const where = { ...machine(), ...(await toolVersions()) };
  const git = gitState();
  const workers = availableParallelism();
  const dir = await mkdtemp(join(tmpdir(), "cloister-bench-model-hash-"));
  try {
    const hashModel = await loadHashModel(options.source, join(dir, "build"));
    const single = join(dir, "single", "model.bin");
    const multiDir = join(dir, "multi");
    await mkdir(join(dir, "single"));
    await mkdir(multiDir);
    const part = Math.floor(options.size / options.files);
    const multi = Array.from({ length: options.files }, (_, i) =>
      join(multiDir, `part-${String(i).padStart(2, "0")}.bin`),
    );
    progress(`writing ${options.size} bytes once and ${options.files} × ${part} bytes in ${dir}`);
    await writeRandom(single, options.size);
    for (const path of multi) await writeRandom(path, part);

    const cloister = (root: string, threads: number) => async () =>
      (await hashModel(root, { cache: false, workers: threads })).files.map((f) => f.sha256);
    const cases: Case[] = [];
    for (const [set, paths, root] of [
      ["single", [single], single],
      ["multi", multi, multiDir],
    ] as const) {
      const files = set === "single" ? "the file" : `the ${options.files} files`;
      cases.push(
        {
          set,
          implementation: "cloister",
          what: `hashModel(${set === "single" ? "file" : "dir"}, {cache: false}) over ${files}, ${workers} thread(s) (availableParallelism)`,
          threads: workers,
          run: cloister(root, workers),
        },
        ...(set === "multi"
          ? [
              {
                set,
                implementation: "cloister-1-thread",
                what: `hashModel(dir, {cache: false, workers: 1}) over ${files}`,
                threads: 1,
                run: cloister(root, 1),
              } as const,
              {
                set,
                implementation: "openssl-parallel",
                what: `one openssl dgst -sha256 process per file, ${workers} at a time`,
                threads: workers,
                run: () => opensslParallel(paths, workers),
              } as const,
            ]
          : []),
        {
          set,
          implementation: "openssl",
          what: `one openssl dgst -sha256 -r process over ${files} (process start included)`,
          threads: 1,
          run: () => openssl(paths),
        },
        {
          set,
          implementation: "sha256sum",
          what: `one sha256sum process over ${files} (process start included)`,
          threads: 1,
          run: () => sha256sum(paths),
        },
        {
          set,
          implementation: "node-stream",
          what: `createReadStream (64 KiB chunks) piped into createHash("sha256"), ${files} in turn, in this process`,
          threads: 1,
          run: () => nodeStream(paths),
        },
      );
    }

    const expected = { single: await openssl([single]), multi: await openssl(multi) };
    const samples = new Map<Case, number[]>(cases.map((c) => [c, []]));
    const meter = startCpuMeter(where.cores);
    // Repetition 0 warms the page cache and the code; it is not recorded. Each repetition runs
    // every case once, starting one further along, so drift falls on all rows alike.
    for (let rep = 0; rep <= options.reps; rep++) {
      progress(rep === 0 ? "warm-up" : `repetition ${rep} of ${options.reps}`);
      for (let k = 0; k < cases.length; k++) {
        const c = cases[(k + rep) % cases.length] as Case;
        const t0 = performance.now();
        const digests = await c.run();
        const seconds = (performance.now() - t0) / 1000;
        const want = expected[c.set];
        if (digests.join() !== want.join())
          throw new Error(`${c.implementation} (${c.set}) disagrees with openssl on a digest.`);
        if (rep > 0) samples.get(c)?.push(seconds);
      }
    }
    // Child processes (openssl, sha256sum) count as "other" here: an upper bound.
    const { wallSeconds, otherShare } = meter.stop();

    const bytes = { single: options.size, multi: part * options.files };
    const rows: Row[] = cases.map((c) => {
      const list = samples.get(c) ?? [];
      const medianSeconds = median(list);
      return {
        set: c.set,
        implementation: c.implementation,
        what: c.what,
        threads: c.threads,
        samplesSeconds: list.map((s) => round(s, 4)),
        medianSeconds: round(medianSeconds, 4),
        mbPerSecond: round(bytes[c.set] / medianSeconds / 1e6, 1),
      };
    });
    const ratios: Ratio[] = rows
      .filter((r) => r.implementation.startsWith("cloister"))
      .flatMap((r) =>
        rows
          .filter((b) => b.set === r.set && !b.implementation.startsWith("cloister"))
          .map((b) => ({
            set: r.set,
            implementation: r.implementation,
            baseline: b.implementation,
            ratio: round(r.mbPerSecond / b.mbPerSecond, 3),
          })),
      );
    const ratio = (set: FileSet, implementation: Implementation, baseline: Implementation) =>
      ratios.find(
        (x) => x.set === set && x.implementation === implementation && x.baseline === baseline,
      )?.ratio ?? Number.NaN;
    const speed = (set: FileSet, implementation: Implementation) =>
      rows.find((x) => x.set === set && x.implementation === implementation)?.mbPerSecond ??
      Number.NaN;
    const scaling = (implementation: Implementation, one: Implementation) =>
      round(speed("multi", implementation) / speed("multi", one), 3);
    const targets = [
      {
        what: "one file: Cloister MB/s over openssl dgst",
        value: ratio("single", "cloister", "openssl"),
        goal: 0.9,
      },
      {
        what: `${options.files} files, ${workers} threads: Cloister MB/s over openssl with a process per file (what the machine's cores give)`,
        value: ratio("multi", "cloister", "openssl-parallel"),
        goal: 0.9,
      },
    ].map((t) => ({ ...t, met: t.value >= t.goal }));

    const result: ModelHashBenchResult = {
      schema: "cloister/bench/model-hash/v1",
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: where,
      git,
      parameters: {
        sizeBytes: options.size,
        files: options.files,
        reps: options.reps,
        build: options.source ? "source" : "esbuild",
        workers,
      },
      digests: expected,
      rows,
      ratios,
      targets,
      cpu: { wallSeconds: round(wallSeconds, 1), otherShare },
      notes: [
        `Scaling over ${options.files} files with ${workers} threads: Cloister ${scaling("cloister", "cloister-1-thread")}x its 1-thread speed, openssl ${scaling("openssl-parallel", "openssl")}x with a process per file over one process.`,
        "Files are random bytes written to a temporary directory, read from the page cache (a warm-up repetition first); the directory is removed afterwards.",
        "Every row's digests are checked against openssl's, outside the timing. openssl and sha256sum times include starting their process (a few ms).",
        "hashModel runs with cache: false (every byte read); its time includes listing the files and starting worker threads (none below 64 MiB to hash).",
        `Other processes (openssl and sha256sum included) used ${(100 * otherShare).toFixed(1)}% of the machine's CPU time during the run${otherShare > 0.25 ? ": the figures may be disturbed; run again on a quiet machine" : ""}.`,
      ],
    };
    await publishResult("model-hash", result, options.outDir, formatReport, progress);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
