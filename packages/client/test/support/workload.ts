import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Policy } from "@cloister/core";
import {
  type Engine,
  loadLlamaEngine,
  loadOrCreateSimulatedRoot,
  loadUseLiteEngine,
  type RunningWorkload,
  startWorkload,
  type WorkloadOptions,
} from "@cloister/server";
import { writeBigramModel } from "../../../server/test/support/bigram-model.js";

export interface TestWorkload {
  readonly workload: RunningWorkload;
  /** Accepts exactly this workload's simulated root. */
  readonly policy: Policy;
  readonly configDir: string;
  close(): Promise<void>;
}

export interface TestWorkloadOptions extends Partial<Omit<WorkloadOptions, "backend">> {
  readonly embeddings?: boolean;
  readonly engines?: readonly Engine[];
}

/**
 * A real workload on a loopback port: the bigram test model (known outputs), optionally the
 * real USE-lite embeddings, and the simulated TEE with its root in a fresh config directory.
 */
export async function startTestWorkload(options: TestWorkloadOptions = {}): Promise<TestWorkload> {
  const configDir = options.configDir ?? (await mkdtemp(join(tmpdir(), "cloister-test-home-")));
  const modelPath = options.engines === undefined ? await writeBigramModel() : undefined;
  const engines =
    modelPath === undefined
      ? (options.engines ?? [])
      : [await loadLlamaEngine({ modelPath, gpu: false })];
  const all = options.embeddings === true ? [...engines, await loadUseLiteEngine()] : engines;
  const workload = await startWorkload({
    host: "127.0.0.1",
    port: 0,
    parallel: 2,
    maxWaiting: 16,
    insecurePlaintext: false,
    replayWindowMs: 60_000,
    logger: false,
    preferSimulated: true,
    ...options,
    configDir,
    backend: { kind: "engines", engines: all },
  });
  const root = await loadOrCreateSimulatedRoot(configDir);
  return {
    workload,
    configDir,
    policy: { platforms: ["simulated"], simulatedRoots: [root.publicJwk] },
    async close() {
      await workload.close();
      await rm(configDir, { recursive: true, force: true });
      if (modelPath !== undefined) await rm(dirname(modelPath), { recursive: true, force: true });
    },
  };
}
