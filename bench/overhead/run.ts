/**
 * `npm run bench`: what Cloister's attested, encrypted path costs over calling the engine
 * directly — generation speed and latency, gateway throughput against plaintext HTTP, and the
 * workload's memory beyond the model. See bench/README.md.
 */

import { stat } from "node:fs/promises";
import { connect } from "@cloister/client";
import OpenAI from "openai";
import { otherShareNote, startCpuMeter } from "../shared/cpu.js";
import { gitState, machine } from "../shared/machine.js";
import { publishResult, shown } from "../shared/results.js";
import { round } from "../shared/stats.js";
import { measureGateway } from "./gateway.js";
import { measureGeneration } from "./generation.js";
import { Child } from "./ipc.js";
import { type Options, parseOptions, USAGE } from "./options.js";
import { PROMPTS } from "./prompts.js";
import {
  cpuMicros,
  type EngineChildApi,
  type EngineSettings,
  type ModelReady,
  type ProcessApi,
  type ServerReady,
  type ServerSettings,
} from "./protocol.js";
import { type BenchResult, type CpuAccount, cellName, formatReport, targets } from "./report.js";

const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === "help") {
    console.log(USAGE);
    return;
  }
  const startedAt = new Date().toISOString();
  const where = machine();
  const git = gitState();
  const modelSize = await stat(options.modelPath).then(
    (s) => s.size,
    () => {
      throw new Error(
        `No model at ${options.modelPath}. Pass --model PATH, or build the demo model (tools/moby-dick-model/README.md).`,
      );
    },
  );

  progress("starting the engine-only process and the workload process");
  const execArgv =
    options.cpuProfDir === null ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`];
  const settings: EngineSettings = { modelPath: options.modelPath, threads: options.threads };
  const serverSettings: ServerSettings = {
    ...settings,
    maxWaiting: 2 * Math.max(...options.concurrency),
  };
  const [engine, server] = await Promise.all([
    Child.start<EngineChildApi, ModelReady>(
      new URL("./engine-child.ts", import.meta.url),
      [JSON.stringify(settings)],
      execArgv,
    ),
    Child.start<ProcessApi, ServerReady>(
      new URL("./server.ts", import.meta.url),
      [JSON.stringify(serverSettings)],
      execArgv,
    ),
  ]);
  try {
    const model = engine.ready;
    // Pinning the model digest makes the session refuse a workload serving any other model.
    const session = await connect(server.ready.url, {
      policy: {
        platforms: ["simulated"],
        simulatedRoots: [server.ready.rootJwk],
        workload: { modelDigests: [model.digest] },
      },
    });
    const baseURL = `${server.ready.url}/v1`;
    const clients = {
      engine,
      model: model.id,
      // No retries: a retried request would be timed as one slow request.
      cloister: new OpenAI({ apiKey: "unused", baseURL, fetch: session.fetch, maxRetries: 0 }),
      plaintext: new OpenAI({ apiKey: "unused", baseURL, maxRetries: 0 }),
    };

    const meter = startCpuMeter(where.cores);
    const ownBefore =
      cpuMicros() + (await engine.call("cpuMicros")) + (await server.call("cpuMicros"));

    const generation = await measureGeneration(clients, options, progress);
    const engineOnly = await engine.call("memory");
    const workload = await server.call("memory");
    const engineCpu = await engine.call("cpuMicros");
    await engine.stop();
    const gateway = await measureGateway(server, session, options, progress);
    const workloadAfterThroughput = await server.call("memory");

    const reading = meter.stop(
      cpuMicros() + engineCpu + (await server.call("cpuMicros")) - ownBefore,
    );
    const cpu: CpuAccount = {
      wallSeconds: round(reading.wallSeconds, 1),
      machineBusySeconds: round(reading.busyMicros / 1e6, 1),
      benchmarkSeconds: round(reading.ownMicros / 1e6, 1),
      otherShare: reading.otherShare,
    };
    const parts = { machine: where, generation, gateway, cpu };
    const result: BenchResult = {
      schema: "cloister/bench/overhead/v1",
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: where,
      git,
      model: {
        path: shown(options.modelPath),
        id: model.id,
        digest: model.digest,
        sizeBytes: modelSize,
        contextSize: model.contextSize,
      },
      parameters: {
        prompts: PROMPTS.slice(0, options.prompts),
        maxTokens: options.maxTokens,
        temperature: 0,
        threads: options.threads,
        parallel: 1,
        warmupRounds: options.warmupRounds,
        rounds: options.rounds,
        apis: options.apis,
        concurrency: options.concurrency,
        cellSeconds: options.cellSeconds,
        cellWarmupSeconds: options.cellWarmupSeconds,
        cpuProfiled: options.cpuProfDir !== null,
      },
      generation,
      gateway,
      memory: {
        engineOnly,
        workload,
        workloadAfterThroughput,
        workloadMinusEngine: {
          rssBytes: workload.rssBytes - engineOnly.rssBytes,
          heapUsedBytes: workload.heapUsedBytes - engineOnly.heapUsedBytes,
        },
      },
      cpu,
      targets: targets(generation, gateway),
      notes: notes(parts, options),
    };
    await publishResult("overhead", result, options.outDir, formatReport, progress);
  } finally {
    await Promise.all([engine.stop(), server.stop()]);
  }
}

/** What a reader needs to judge the figures, as measured on this run. */
function notes(
  {
    machine,
    generation,
    gateway,
    cpu,
  }: Pick<BenchResult, "machine" | "generation" | "gateway" | "cpu">,
  options: Options,
): string[] {
  const list = [
    `Client and server share ${machine.cores} CPU cores: during Cloister and plaintext requests the benchmark process (openai SDK; @cloister/client sealing, opening, receipt checks) runs beside the workload process, while in-process requests ran alone (the benchmark waited).`,
    "In-process latency is timed inside the engine-only process around engine.chat/complete; Cloister and plaintext latency from the openai SDK call until its body or stream has ended (for Cloister: receipt verified).",
    "Memory is read after a full GC in each process. The engine-only process imports llama.ts alone; the workload process loads all of @cloister/server (Fastify, the gateway and attestation code, the embeddings engine's modules) though it serves only this model.",
    otherShareNote(cpu.otherShare, "while measuring"),
  ];
  const baseline = generation.find((cell) => !cell.stream)?.paths.inProcess;
  if (baseline !== undefined) {
    list.push(
      `This model decodes ${baseline.tokensPerSecond.toFixed(0)} tokens/s in-process (${(1000 / baseline.tokensPerSecond).toFixed(3)} ms a token): fixed per-request and per-chunk costs weigh far more against it than against a model whose tokens take tens of milliseconds.`,
    );
  }
  for (const cell of generation.filter((c) => !c.identicalOutputs))
    list.push(
      `${cellName(cell)}: the paths did not all produce the same text and token count, though decoding was greedy.`,
    );
  for (const cell of gateway.filter((c) => c.ohttp.errors + c.plaintext.errors > 0))
    list.push(
      `${cell.route} x${cell.concurrency}: ${cell.ohttp.errors} OHTTP and ${cell.plaintext.errors} plaintext requests failed (first: ${cell.ohttp.firstError ?? cell.plaintext.firstError}).`,
    );
  if (options.cpuProfDir !== null)
    list.push("CPU profiling was on in the child processes: these figures are not comparable.");
  list.push(
    "The completion route runs one generation at a time (parallel 1): its throughput is the engine's queue plus one prompt evaluation and decode step per request, beside the gateway's cost.",
  );
  return list;
}

try {
  await main();
} catch (error) {
  progress(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
