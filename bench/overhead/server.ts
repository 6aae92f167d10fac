/**
 * The workload process: what `cloister serve` runs, on a loopback port, with the simulated TEE
 * rooted in a throwaway config directory. The plaintext routes are on too, so the same process
 * answers both sides of the gateway comparison.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadLlamaEngine, loadOrCreateSimulatedRoot, startWorkload } from "@cloister/server";
import { serve } from "./ipc.js";
import { processApi, type ServerReady, type ServerSettings } from "./protocol.js";

const settings = JSON.parse(process.argv[2] ?? "{}") as ServerSettings;
const configDir = await mkdtemp(join(tmpdir(), "cloister-bench-home-"));
const engine = await loadLlamaEngine({
  modelPath: settings.modelPath,
  gpu: false,
  threads: settings.threads,
  parallel: 1,
});
const workload = await startWorkload({
  backend: { kind: "engines", engines: [engine] },
  host: "127.0.0.1",
  port: 0,
  parallel: 1,
  maxWaiting: settings.maxWaiting,
  insecurePlaintext: true,
  replayWindowMs: 60_000,
  configDir,
  preferSimulated: true,
  logger: false,
});
const root = await loadOrCreateSimulatedRoot(configDir);

serve(
  processApi,
  {
    url: workload.url,
    rootJwk: root.publicJwk,
    id: engine.id,
    digest: engine.digest,
    contextSize: engine.contextSize,
  } satisfies ServerReady,
  async () => {
    await workload.close();
    await rm(configDir, { recursive: true, force: true });
  },
);
