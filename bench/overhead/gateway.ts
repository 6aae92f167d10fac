/**
 * Gateway throughput: closed-loop load (each of N workers sends its next request as soon as
 * its last one is answered) on the same route through the OHTTP gateway and as plaintext HTTP.
 * Both use Node's fetch and its keep-alive connection pool, so the difference is the sealing,
 * the Binary HTTP framing, the replay check and the receipt.
 */

import type { Session } from "@cloister/client";
import { type Distribution, distribution, round } from "../shared/stats.js";
import type { Child } from "./ipc.js";
import type { Options } from "./options.js";
import { PROMPTS } from "./prompts.js";
import { cpuMicros, type ProcessApi, type ServerReady } from "./protocol.js";

export interface ThroughputSummary {
  readonly requests: number;
  readonly errors: number;
  /** The first failure's message, to tell overload (503) from a broken path. */
  readonly firstError: string | null;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: Distribution;
  /** CPU time (all threads) per completed request, benchmark process and workload process. */
  readonly clientCpuMsPerRequest: number;
  readonly serverCpuMsPerRequest: number;
}

export interface GatewayCell {
  readonly route: string;
  readonly concurrency: number;
  readonly ohttp: ThroughputSummary;
  readonly plaintext: ThroughputSummary;
  /** requests/s through OHTTP over requests/s in plaintext. */
  readonly ratio: number;
}

interface Route {
  readonly name: string;
  readonly path: string;
  init(model: string): RequestInit;
}

export const ROUTES: readonly Route[] = [
  { name: "GET /v1/models", path: "/v1/models", init: () => ({ method: "GET" }) },
  {
    name: "POST /v1/completions (max_tokens 1)",
    path: "/v1/completions",
    init: (model) => ({
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, prompt: PROMPTS[0], max_tokens: 1, temperature: 0 }),
    }),
  },
];

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export async function measureGateway(
  server: Child<ProcessApi, ServerReady>,
  session: Session,
  options: Options,
  progress: (line: string) => void,
): Promise<GatewayCell[]> {
  const cells: GatewayCell[] = [];
  const ways: Record<"ohttp" | "plaintext", Fetch> = {
    ohttp: session.fetch,
    plaintext: (url, init) => fetch(url, init),
  };
  for (const route of ROUTES) {
    const url = `${server.ready.url}${route.path}`;
    for (const concurrency of options.concurrency) {
      const result = {} as Record<"ohttp" | "plaintext", ThroughputSummary>;
      for (const way of ["ohttp", "plaintext"] as const) {
        progress(`throughput ${route.name} x${concurrency} ${way}`);
        const send = async () => {
          const response = await ways[way](url, route.init(server.ready.id));
          await response.arrayBuffer();
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
        };
        await load(send, concurrency, options.cellWarmupSeconds * 1000);
        result[way] = await measured(server, () =>
          load(send, concurrency, options.cellSeconds * 1000),
        );
      }
      cells.push({
        route: route.name,
        concurrency,
        ...result,
        ratio: round(result.ohttp.requestsPerSecond / result.plaintext.requestsPerSecond, 4),
      });
    }
  }
  return cells;
}

interface Load {
  readonly latencies: number[];
  readonly errors: number;
  readonly firstError: string | null;
  readonly elapsedMs: number;
}

/** `concurrency` workers sending back to back until `durationMs` has passed. */
async function load(
  send: () => Promise<void>,
  concurrency: number,
  durationMs: number,
): Promise<Load> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const start = performance.now();
  const end = start + durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      const sent = performance.now();
      try {
        await send();
        latencies.push(performance.now() - sent);
      } catch (error) {
        errors += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, errors, firstError, elapsedMs: performance.now() - start };
}

/** Runs one load and adds what it cost each process in CPU time. */
async function measured(
  server: Child<ProcessApi, ServerReady>,
  run: () => Promise<Load>,
): Promise<ThroughputSummary> {
  const serverBefore = await server.call("cpuMicros");
  const clientBefore = cpuMicros();
  const { latencies, errors, firstError, elapsedMs } = await run();
  const clientMicros = cpuMicros() - clientBefore;
  const serverMicros = (await server.call("cpuMicros")) - serverBefore;
  const requests = latencies.length;
  return {
    requests,
    errors,
    firstError,
    seconds: round(elapsedMs / 1000),
    requestsPerSecond: round(requests / (elapsedMs / 1000), 1),
    latencyMs: distribution(latencies),
    clientCpuMsPerRequest: round(clientMicros / 1000 / requests, 4),
    serverCpuMsPerRequest: round(serverMicros / 1000 / requests, 4),
  };
}
