/** What the benchmark and its child processes say to each other (see ipc.ts). */

/** The two OpenAI generation endpoints, and the engine call each one makes. */
export type GenerationApi = "completions" | "chat";

export interface EngineSettings {
  readonly modelPath: string;
  readonly threads: number;
}

export interface ServerSettings extends EngineSettings {
  /** Must admit the deepest queue the throughput cells build (concurrency - 1 waiters). */
  readonly maxWaiting: number;
}

export interface GenerationRequest {
  readonly api: GenerationApi;
  readonly prompt: string;
  readonly maxTokens: number;
  readonly stream: boolean;
}

/** One timed generation, whichever way it travelled. */
export interface Sample {
  readonly latencyMs: number;
  /** Until the first non-empty piece of text; null when not streamed or nothing was generated. */
  readonly ttftMs: number | null;
  readonly completionTokens: number;
  readonly text: string;
}

export interface MemorySnapshot {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  readonly arrayBuffersBytes: number;
}

export interface ModelReady {
  readonly id: string;
  readonly digest: string;
  readonly contextSize: number;
}

export interface ServerReady extends ModelReady {
  readonly url: string;
  /** The simulated root that signs this workload's evidence: the one key the policy accepts. */
  readonly rootJwk: JsonWebKey;
}

/** What every child process answers: the workload process answers nothing else. */
export type ProcessApi = {
  memory(): Promise<MemorySnapshot>;
  /** CPU time of every thread of the process (llama.cpp's and the crypto pool's included). */
  cpuMicros(): Promise<number>;
};

export type EngineChildApi = ProcessApi & {
  generate(request: GenerationRequest): Promise<Sample>;
};

export const processApi: ProcessApi = {
  memory: async () => memorySnapshot(),
  cpuMicros: async () => cpuMicros(),
};

export function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** RSS and heap after a full garbage collection, so heapUsed counts live objects only. */
function memorySnapshot(): MemorySnapshot {
  globalThis.gc?.();
  const m = process.memoryUsage();
  return {
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    heapTotalBytes: m.heapTotal,
    externalBytes: m.external,
    arrayBuffersBytes: m.arrayBuffers,
  };
}
