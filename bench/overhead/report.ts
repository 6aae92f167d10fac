/** The result file, the targets it is judged against, and the table printed to stdout. */

import type { GitState, Machine } from "../shared/machine.js";
import { table } from "../shared/table.js";
import type { Target } from "../shared/target.js";
import type { GatewayCell } from "./gateway.js";
import type { GenerationCell, PathSummary } from "./generation.js";
import type { MemorySnapshot } from "./protocol.js";

/** From the issue that asked for this benchmark. */
export const GOALS = {
  tokensPerSecondRatio: 0.98,
  addedP50Ms: 1,
  gatewayRatio: 0.7,
} as const;

export interface MemoryResult {
  /** The engine-only process, after the in-process generation requests. */
  readonly engineOnly: MemorySnapshot;
  /** The workload process, after the Cloister and plaintext generation requests. */
  readonly workload: MemorySnapshot;
  readonly workloadAfterThroughput: MemorySnapshot;
  readonly workloadMinusEngine: { readonly rssBytes: number; readonly heapUsedBytes: number };
}

export interface Parameters {
  readonly prompts: readonly string[];
  readonly maxTokens: number;
  readonly temperature: 0;
  readonly threads: number;
  readonly parallel: 1;
  readonly warmupRounds: number;
  readonly rounds: number;
  readonly apis: readonly string[];
  readonly concurrency: readonly number[];
  readonly cellSeconds: number;
  readonly cellWarmupSeconds: number;
  /** Profiling slows the child processes: such a run's figures are not comparable. */
  readonly cpuProfiled: boolean;
}

/** Whose work the cores did while measuring, from machine-wide and per-process CPU time. */
export interface CpuAccount {
  readonly wallSeconds: number;
  readonly machineBusySeconds: number;
  /** The benchmark process and its two children. */
  readonly benchmarkSeconds: number;
  /** Other processes' CPU time over all cores' time: above a few percent, figures are disturbed. */
  readonly otherShare: number;
}

export interface BenchResult {
  readonly schema: "cloister/bench/overhead/v1";
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: Machine;
  readonly git: GitState | null;
  readonly model: {
    readonly path: string;
    readonly id: string;
    readonly digest: string;
    readonly sizeBytes: number;
    readonly contextSize: number;
  };
  readonly parameters: Parameters;
  readonly generation: readonly GenerationCell[];
  readonly gateway: readonly GatewayCell[];
  readonly memory: MemoryResult;
  readonly cpu: CpuAccount;
  readonly targets: readonly Target[];
  readonly notes: readonly string[];
}

export function cellName(cell: { api: string; stream: boolean }): string {
  return `${cell.api}${cell.stream ? " stream" : ""}`;
}

export function targets(
  generation: readonly GenerationCell[],
  gateway: readonly GatewayCell[],
): Target[] {
  return [
    ...generation.flatMap((cell) => {
      const { tokensPerSecondRatio, addedP50Ms } = cell.cloisterVsInProcess;
      return [
        {
          name: `generation ${cellName(cell)}: Cloister tokens/s ÷ in-process`,
          goal: `>= ${GOALS.tokensPerSecondRatio}`,
          measured: tokensPerSecondRatio,
          met: tokensPerSecondRatio >= GOALS.tokensPerSecondRatio,
        },
        {
          name: `generation ${cellName(cell)}: Cloister p50 latency added (ms)`,
          goal: `<= ${GOALS.addedP50Ms}`,
          measured: addedP50Ms,
          met: addedP50Ms <= GOALS.addedP50Ms,
        },
      ];
    }),
    ...gateway.map((cell) => ({
      name: `gateway ${cell.route} x${cell.concurrency}: OHTTP req/s ÷ plaintext`,
      goal: `>= ${GOALS.gatewayRatio}`,
      measured: cell.ratio,
      met: cell.ratio >= GOALS.gatewayRatio,
    })),
  ];
}

export function formatReport(result: BenchResult): string {
  const p = result.parameters;
  const mark = (met: boolean) => (met ? "met" : "MISSED");
  const generation = result.generation.flatMap((cell) => {
    const rows = (label: string, pick: (s: PathSummary) => number | null, vs: string) => [
      label,
      ...(["inProcess", "cloister", "plaintext"] as const).map((path) =>
        fixed(pick(cell.paths[path])),
      ),
      vs,
    ];
    const c = cell.cloisterVsInProcess;
    const ratioMet = c.tokensPerSecondRatio >= GOALS.tokensPerSecondRatio;
    const p50Met = c.addedP50Ms <= GOALS.addedP50Ms;
    return [
      [cellName(cell), "", "", "", cell.identicalOutputs ? "" : "outputs differed!"],
      rows(
        "  tokens/s",
        (s) => s.tokensPerSecond,
        `x${c.tokensPerSecondRatio.toFixed(3)} ${mark(ratioMet)}`,
      ),
      rows(
        "  p50 ms",
        (s) => s.latencyMs.p50,
        `${signed(c.addedP50Ms)} ms ${mark(p50Met)} (paired ${signed(c.pairedAddedMedianMs)})`,
      ),
      rows("  p95 ms", (s) => s.latencyMs.p95, `${signed(c.addedP95Ms)} ms`),
      ...(cell.stream
        ? [
            rows("  TTFT p50 ms", (s) => s.ttftMs?.p50 ?? null, `${signed(c.addedTtftP50Ms)} ms`),
            rows("  TTFT p95 ms", (s) => s.ttftMs?.p95 ?? null, ""),
          ]
        : []),
    ];
  });
  const gateway = result.gateway.map((cell) => [
    cell.route,
    String(cell.concurrency),
    fixed(cell.ohttp.requestsPerSecond),
    fixed(cell.plaintext.requestsPerSecond),
    `x${cell.ratio.toFixed(3)} ${mark(cell.ratio >= GOALS.gatewayRatio)}`,
    `${fixed(cell.ohttp.latencyMs.p50)} / ${fixed(cell.plaintext.latencyMs.p50)}`,
    `${fixed(cell.ohttp.clientCpuMsPerRequest)} / ${fixed(cell.plaintext.clientCpuMsPerRequest)}`,
    `${fixed(cell.ohttp.serverCpuMsPerRequest)} / ${fixed(cell.plaintext.serverCpuMsPerRequest)}`,
    cell.ohttp.errors + cell.plaintext.errors === 0
      ? ""
      : `${cell.ohttp.errors}/${cell.plaintext.errors}`,
  ]);
  const m = result.memory;
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  const memory = [
    [
      "RSS MiB",
      mib(m.engineOnly.rssBytes),
      mib(m.workload.rssBytes),
      mib(m.workloadMinusEngine.rssBytes),
      mib(m.workloadAfterThroughput.rssBytes),
    ],
    [
      "heapUsed MiB",
      mib(m.engineOnly.heapUsedBytes),
      mib(m.workload.heapUsedBytes),
      mib(m.workloadMinusEngine.heapUsedBytes),
      mib(m.workloadAfterThroughput.heapUsedBytes),
    ],
  ];
  const met = result.targets.filter((t) => t.met).length;
  return [
    `Cloister overhead — ${result.model.id} (${result.model.digest.slice(0, 19)}…), ${result.machine.cpuModel} x${result.machine.cores}, Node ${result.machine.node}`,
    "",
    `Generation: max_tokens ${p.maxTokens}, ${p.prompts.length} prompts x ${p.rounds} rounds (+${p.warmupRounds} warm-up), temperature 0, ${p.threads} thread(s), parallel 1`,
    table(
      ["", "in-process", "Cloister e2e", "plaintext HTTP", "Cloister vs in-process"],
      generation,
    ),
    "",
    `Gateway throughput: closed loop, ${p.cellSeconds} s per cell; client and server share ${result.machine.cores} cores`,
    table(
      [
        "route",
        "conc",
        "OHTTP req/s",
        "plain req/s",
        "OHTTP ÷ plain",
        "p50 ms O/P",
        "client CPU ms/req O/P",
        "server CPU ms/req O/P",
        "errors O/P",
      ],
      gateway,
    ),
    "",
    "Memory after the same generation requests, after a full GC",
    table(["", "engine only", "workload", "difference", "workload after throughput"], memory),
    "",
    `Targets met: ${met} of ${result.targets.length}`,
    ...result.notes.map((note) => `- ${note}`),
  ].join("\n");
}

function fixed(value: number | null): string {
  if (value === null || Number.isNaN(value)) return "-";
  return value.toFixed(Math.abs(value) >= 100 ? 1 : Math.abs(value) >= 1 ? 2 : 3);
}

function signed(value: number | null): string {
  if (value === null) return "-";
  return `${value >= 0 ? "+" : ""}${fixed(value)}`;
}
