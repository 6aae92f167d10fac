import { randomInt } from "node:crypto";
import { nodeAeads } from "@cloister/client/node-aead";
import {
  type Collateral,
  generateGatewayKey,
  type ManifestModel,
  manifestDigest,
  ReplayCache,
  useAeads,
  type WorkloadManifest,
} from "@cloister/core";
import Fastify, { type FastifyInstance } from "fastify";
import { registerAttestation } from "./api/attestation-route.js";
import { registerDeviceRoutes } from "./api/device-routes.js";
import type { InnerHandler } from "./api/inner.js";
import { registerGateway } from "./api/ohttp-gateway.js";
import { openAiRouter } from "./api/openai/router.js";
import { registerPlaintextRoutes } from "./api/plaintext-routes.js";
import { Attestor, type GpuSource } from "./attestation/attestor.js";
import { codeDigest } from "./attestation/code-digest.js";
import { buildManifest, configDigest, simulatedMeasurement } from "./attestation/manifest.js";
import { ReceiptSigner } from "./audit/receipt-signer.js";
import type { DeviceKeyRelease } from "./devices/release.js";
import type { Engine } from "./engines/engine.js";
import { EngineRegistry } from "./engines/registry.js";
import { discoverUpstreamModels, upstreamHandler } from "./engines/upstream.js";
import { WorkQueue } from "./engines/work-queue.js";
import { detect } from "./tee/detect.js";
import type { EvidenceProvider } from "./tee/provider.js";

/** Where inference happens: engines in this process, or an OpenAI-compatible server beside it. */
export type Backend =
  | { readonly kind: "engines"; readonly engines: readonly Engine[] }
  | { readonly kind: "upstream"; readonly url: URL };

export interface WorkloadOptions {
  readonly backend: Backend;
  readonly host: string;
  readonly port: number;
  /** Generations running at once. */
  readonly parallel: number;
  /** Requests allowed to wait for a free slot before the server answers "busy". */
  readonly maxWaiting: number;
  /** Serve the OpenAI routes unencrypted too (development only). */
  readonly insecurePlaintext: boolean;
  /** How far an inner request's Date may be from the gateway's clock, and how long replays are remembered. */
  readonly replayWindowMs: number;
  /** Where the simulated TEE keeps its root key. */
  readonly configDir: string;
  /** Use this provider instead of detecting one (tests). */
  readonly provider?: EvidenceProvider;
  /** Use the simulated TEE even where hardware is available. */
  readonly preferSimulated?: boolean;
  /**
   * Collateral served with every bundle besides what the provider returns, resolved once at
   * start-up for the chosen provider: e.g. an SEV-SNP VCEK and its chain when the host's
   * certificate table is empty, so that clients can verify without fetching anything.
   */
  readonly collateral?: (provider: EvidenceProvider) => Promise<Collateral>;
  /** The machine's confidential GPUs, attested and bound with every bundle. */
  readonly gpus?: GpuSource;
  /** Release model keys to edge devices that prove their firmware with a PSA token. */
  readonly deviceRelease?: DeviceKeyRelease;
  /** Fastify/pino logging; never includes bodies. */
  readonly logger: boolean | { readonly level: string };
}

export interface RunningWorkload {
  readonly url: string;
  readonly manifest: WorkloadManifest;
  readonly provider: EvidenceProvider;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** Largest encapsulated request accepted (a long chat history fits comfortably). */
const BODY_LIMIT = 8 * 1024 * 1024;

/**
 * Assembles and starts a workload: engines, gateway key, receipt key, manifest, evidence
 * provider, and the HTTP routes. Everything that decides behaviour goes into the config digest.
 */
export async function startWorkload(options: WorkloadOptions): Promise<RunningWorkload> {
  useAeads(nodeAeads);
  const { models, handler, close } = await backendOf(options);
  const config = {
    backend:
      options.backend.kind === "upstream"
        ? { upstream: options.backend.url.href }
        : { engines: "local" },
    models,
    parallel: options.parallel,
    maxWaiting: options.maxWaiting,
    insecurePlaintext: options.insecurePlaintext,
    replayWindowMs: options.replayWindowMs,
    ...(options.deviceRelease === undefined
      ? {}
      : { deviceRelease: options.deviceRelease.describe() }),
  };
  // A random key id, so a client holding a previous instance's key is told "unknown key" and re-attests.
  const gatewayKey = await generateGatewayKey(randomInt(256));
  let digestOfManifest = "";
  const receipts = new ReceiptSigner(() => digestOfManifest);
  const code = await codeDigest();
  const manifest = buildManifest({
    code,
    config,
    models,
    gatewayKeys: [gatewayKey],
    receiptPublicKey: receipts.publicKey,
  });
  digestOfManifest = await manifestDigest(manifest);
  const provider =
    options.provider ??
    (await detect({
      configDir: options.configDir,
      measurement: simulatedMeasurement(code, configDigest(config)),
      ...(options.preferSimulated === true ? { prefer: "simulated" as const } : {}),
    }));

  const app = Fastify({
    logger: options.logger,
    forceCloseConnections: true,
  });
  const collateral = options.collateral === undefined ? {} : await options.collateral(provider);
  registerAttestation(
    app,
    new Attestor(provider, manifest, {
      collateral,
      ...(options.gpus === undefined ? {} : { gpus: options.gpus }),
    }),
  );
  registerGateway(app, {
    keys: [gatewayKey],
    replay: new ReplayCache({ windowMs: options.replayWindowMs }),
    handler,
    receipts,
    bodyLimit: BODY_LIMIT,
  });
  if (options.insecurePlaintext) registerPlaintextRoutes(app, handler);
  if (options.deviceRelease !== undefined) registerDeviceRoutes(app, options.deviceRelease);
  app.addHook("onClose", close);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return { url: `http://${host}:${port}`, manifest, provider, app, close: () => app.close() };
}

async function backendOf(
  options: WorkloadOptions,
): Promise<{ models: ManifestModel[]; handler: InnerHandler; close: () => Promise<void> }> {
  const backend = options.backend;
  if (backend.kind === "upstream") {
    return {
      models: await discoverUpstreamModels(backend.url),
      handler: upstreamHandler(backend.url),
      close: async () => {},
    };
  }
  const registry = new EngineRegistry(backend.engines);
  return {
    models: backend.engines.map((e) => ({
      id: e.id,
      kind: e.kind,
      digest: e.digest,
      ...(e.signer === undefined ? {} : { signer: e.signer }),
    })),
    handler: openAiRouter(registry, new WorkQueue(options.parallel, options.maxWaiting)),
    close: () => registry.close(),
  };
}
