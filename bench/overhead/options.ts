/** Command-line options of `npm run bench -- [options]`. */

import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_CHAT_MODEL_PATH } from "../../packages/server/src/engines/default-models.js";
import { PROMPTS } from "./prompts.js";
import type { GenerationApi } from "./protocol.js";

export interface Options {
  readonly modelPath: string;
  readonly threads: number;
  readonly maxTokens: number;
  /** How many of the built-in prompts each round sends. */
  readonly prompts: number;
  readonly warmupRounds: number;
  readonly rounds: number;
  readonly apis: readonly GenerationApi[];
  readonly concurrency: readonly number[];
  /** Seconds measured per throughput cell, after `cellWarmupSeconds` unmeasured. */
  readonly cellSeconds: number;
  readonly cellWarmupSeconds: number;
  readonly outDir: string;
  /** Where the child processes write V8 CPU profiles, if anywhere. */
  readonly cpuProfDir: string | null;
}

export const USAGE = `Usage: npm run bench -- [options]

  --model PATH          GGUF chat model (default: the embedded demo model)
  --threads N           llama.cpp threads, both ways (default 1, right for tiny models)
  --max-tokens N        max_tokens of every generation (default 128)
  --prompts N           prompts per round, 1-${PROMPTS.length} (default ${PROMPTS.length})
  --warmup N            unmeasured rounds first (default 1)
  --rounds N            measured rounds (default 5)
  --apis LIST           completions,chat (default both)
  --concurrency LIST    gateway throughput levels (default 1,8,32)
  --seconds S           measured seconds per throughput cell (default 3)
  --cell-warmup S       unmeasured seconds before each cell (default 0.5)
  --out DIR             where results go (default bench/results)
  --cpu-prof DIR        write V8 CPU profiles of the child processes to DIR
  -h, --help            this text`;

export function parseOptions(argv: readonly string[]): Options | "help" {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      model: { type: "string", default: DEFAULT_CHAT_MODEL_PATH },
      threads: { type: "string", default: "1" },
      "max-tokens": { type: "string", default: "128" },
      prompts: { type: "string", default: String(PROMPTS.length) },
      warmup: { type: "string", default: "1" },
      rounds: { type: "string", default: "5" },
      apis: { type: "string", default: "completions,chat" },
      concurrency: { type: "string", default: "1,8,32" },
      seconds: { type: "string", default: "3" },
      "cell-warmup": { type: "string", default: "0.5" },
      out: { type: "string", default: fileURLToPath(new URL("../results", import.meta.url)) },
      "cpu-prof": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) return "help";
  const apis = values.apis.split(",").map((api) => {
    if (api !== "completions" && api !== "chat")
      throw new Error(`--apis takes completions and/or chat, not "${api}".`);
    return api;
  });
  return {
    modelPath: resolve(values.model),
    threads: integer("threads", values.threads, 1),
    maxTokens: integer("max-tokens", values["max-tokens"], 1),
    prompts: integer("prompts", values.prompts, 1, PROMPTS.length),
    warmupRounds: integer("warmup", values.warmup, 0),
    rounds: integer("rounds", values.rounds, 1),
    apis,
    concurrency: values.concurrency.split(",").map((c) => integer("concurrency", c, 1)),
    cellSeconds: seconds("seconds", values.seconds, false),
    cellWarmupSeconds: seconds("cell-warmup", values["cell-warmup"], true),
    outDir: resolve(values.out),
    cpuProfDir: values["cpu-prof"] === undefined ? null : resolve(values["cpu-prof"]),
  };
}

function integer(name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name} must be a whole number from ${min} to ${max}, not "${text}".`);
  return n;
}

function seconds(name: string, text: string, zeroAllowed: boolean): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !zeroAllowed))
    throw new Error(
      `--${name} must be a ${zeroAllowed ? "" : "positive "}number of seconds, not "${text}".`,
    );
  return n;
}
