import {
  type AttestationBundleJson,
  CloisterError,
  type Collateral,
  encodeBundle,
  type GpuAttestation,
  gpuNonce,
  manifestReportData,
  type WorkloadManifest,
} from "@cloister/core";
import type { EvidenceProvider } from "../tee/provider.js";
import { TokenBucket } from "./token-bucket.js";

export interface AttestorOptions {
  /** Fresh-evidence requests allowed per second on average (hardware report requests are not free). */
  readonly freshPerSecond?: number;
  /** Burst of fresh-evidence requests allowed at once. */
  readonly freshBurst?: number;
  /** Collateral the operator supplied; the provider's own collateral wins on a name clash. */
  readonly collateral?: Collateral;
  /** The machine's confidential GPUs: attested with every bundle and bound into its evidence. */
  readonly gpus?: GpuSource;
}

/** Where a bundle's GPU evidence comes from (server/tee/nvidia, or a simulated GPU). */
export interface GpuSource {
  /** Fresh evidence from every GPU for `nonce` (32 bytes), in a stable order. */
  collect(nonce: Uint8Array): Promise<readonly GpuAttestation[]>;
}

/** Fresh evidence was asked for more often than the rate limit allows. */
export class RateLimitedError extends CloisterError {}

/**
 * Produces attestation bundles: evidence over report_data = H(label || JCS(manifest) [|| GPU set]
 * [|| nonce]) (see manifestReportData).
 * Without a nonce the bundle is made once and reused; with one, fresh evidence is produced,
 * within a rate limit.
 */
export class Attestor {
  readonly #provider: EvidenceProvider;
  readonly #manifest: WorkloadManifest;
  readonly #fresh: TokenBucket;
  readonly #collateral: Collateral;
  readonly #gpus: GpuSource | undefined;
  #cached: Promise<AttestationBundleJson> | undefined;

  constructor(
    provider: EvidenceProvider,
    manifest: WorkloadManifest,
    options: AttestorOptions = {},
  ) {
    this.#provider = provider;
    this.#manifest = manifest;
    this.#fresh = new TokenBucket(options.freshBurst ?? 20, options.freshPerSecond ?? 10);
    this.#collateral = options.collateral ?? {};
    this.#gpus = options.gpus;
  }

  bundle(nonce?: Uint8Array): Promise<AttestationBundleJson> {
    if (nonce === undefined) {
      this.#cached ??= this.#produce().catch((error: unknown) => {
        this.#cached = undefined;
        throw error;
      });
      return this.#cached;
    }
    if (!this.#fresh.take(Date.now())) {
      return Promise.reject(
        new RateLimitedError(
          "attestation.rate_limited",
          "Too many requests for fresh evidence; retry in a second or omit the nonce.",
        ),
      );
    }
    return this.#produce(nonce);
  }

  async #produce(nonce?: Uint8Array): Promise<AttestationBundleJson> {
    // GPUs first: the CPU evidence commits to exactly the set they returned.
    const gpus =
      this.#gpus === undefined
        ? undefined
        : await this.#gpus.collect(await gpuNonce(this.#manifest, nonce));
    const reportData = await manifestReportData(this.#manifest, nonce, gpus);
    const { evidence, collateral } = await this.#provider.getEvidence(reportData);
    return encodeBundle({
      evidence,
      collateral: { ...this.#collateral, ...collateral },
      manifest: this.#manifest,
      ...(nonce === undefined ? {} : { nonce }),
      ...(gpus === undefined ? {} : { gpus }),
    });
  }
}
