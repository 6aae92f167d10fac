import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connect } from "@cloister/client";
import { UNVERIFIED_MODEL } from "@cloister/core";
import { loadOrCreateSimulatedRoot, type RunningWorkload, startWorkload } from "@cloister/server";
import OpenAI from "openai";
import { assertBigramAnswers } from "./support/bigram-answers.js";
import { startTestWorkload, type TestWorkload } from "./support/workload.js";

// The "engine beside Cloister": any OpenAI-compatible server. Here a workload's own plaintext
// routes play vLLM; the workload under test fronts it with --upstream.
let engine: TestWorkload;
let front: RunningWorkload;
let configDir: string;
let openai: OpenAI;

before(async () => {
  engine = await startTestWorkload({ insecurePlaintext: true });
  configDir = await mkdtemp(join(tmpdir(), "cloister-upstream-home-"));
  front = await startWorkload({
    backend: { kind: "upstream", url: new URL(engine.workload.url) },
    host: "127.0.0.1",
    port: 0,
    parallel: 1,
    maxWaiting: 8,
    insecurePlaintext: false,
    replayWindowMs: 60_000,
    configDir,
    preferSimulated: true,
    logger: false,
  });
  const root = await loadOrCreateSimulatedRoot(configDir);
  const session = await connect(front.url, {
    policy: { platforms: ["simulated"], simulatedRoots: [root.publicJwk] },
  });
  openai = new OpenAI({ baseURL: `${front.url}/v1`, apiKey: "unused", fetch: session.fetch });
});

after(async () => {
  await front.close();
  await engine.close();
  await rm(configDir, { recursive: true, force: true });
});

test("--upstream lists the engine's models in the manifest as unverified", () => {
  assert.deepEqual(front.manifest.models, [
    { id: "bigram", kind: "chat", digest: UNVERIFIED_MODEL },
  ]);
});

test("--upstream forwards sealed requests to the engine, whole and streamed", async () => {
  await assertBigramAnswers(openai);
});

test("a policy pinning model digests refuses an upstream whose weights Cloister cannot hash", async () => {
  const root = await loadOrCreateSimulatedRoot(configDir);
  await assert.rejects(
    connect(front.url, {
      policy: {
        platforms: ["simulated"],
        simulatedRoots: [root.publicJwk],
        workload: { modelDigests: [engine.workload.manifest.models[0]?.digest as string] },
      },
    }),
    /Model bigram has digest unverified/,
  );
});
