import {
  type AttestationResult,
  CloisterError,
  type Collateral,
  DEFAULT_POLICY,
  decodeKeyConfigList,
  fromBase64Url,
  type KeyConfig,
  manifestDigest,
  type Policy,
  type ReceiptBody,
  type RimVerifier,
  type Suite,
  type WorkloadManifest,
} from "@cloister/core";
import { fetchAttestation } from "./attestation.js";
import { type Channel, StaleKeyError, sendEncapsulated } from "./encapsulated-fetch.js";
import { AttestationRefusedError } from "./errors.js";

export interface ConnectOptions {
  /** What to accept. Default: hardware TEEs only, debug refused, nothing simulated. */
  readonly policy?: Policy;
  /** Ask for fresh evidence bound to a random nonce (default true). */
  readonly fresh?: boolean;
  /** The transport for all requests (default: the global fetch). Relays and tests plug in here. */
  readonly fetch?: typeof fetch;
  /** The HPKE suite to seal requests with, e.g. AES-256-GCM or ChaCha20-Poly1305 (default AES-128-GCM). */
  readonly suite?: Suite;
  /** Called with every verified receipt. */
  readonly onReceipt?: (receipt: ReceiptBody) => void;
  /**
   * Trust anchors the caller brings, keyed as collateral: e.g. `{ cca_platform_keys: pem }` to
   * verify a workload in an Arm CCA realm, whose platform key no workload can vouch for itself.
   */
  readonly collateral?: Collateral;
  /** Checks NVIDIA RIMs; default: the Node build's, none in browsers. */
  readonly rimVerifier?: RimVerifier;
}

/**
 * A verified connection to one workload. `fetch` is a drop-in fetch for its OpenAI-compatible
 * API: each request is sealed to the attested key, each response opened and its receipt checked.
 */
export class Session {
  readonly url: URL;
  readonly #options: ConnectOptions;
  #state: Verified;

  private constructor(url: URL, options: ConnectOptions, state: Verified) {
    this.url = url;
    this.#options = options;
    this.#state = state;
  }

  /** Verifies the workload at `url` and returns a session, or throws AttestationRefusedError. */
  static async connect(url: string | URL, options: ConnectOptions = {}): Promise<Session> {
    const base = new URL(url);
    return new Session(base, options, await verify(base, options));
  }

  /** The verified attestation result (verdict, platform, every check), for display. */
  get attestation(): AttestationResult {
    return this.#state.result;
  }

  get manifest(): WorkloadManifest {
    return this.#state.manifest;
  }

  /** Verify the workload again (new evidence, new manifest). */
  async reattest(): Promise<void> {
    this.#state = await verify(this.url, this.#options);
  }

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const body = new Uint8Array(await request.arrayBuffer());
    try {
      return await sendEncapsulated(this.#channel(), request, body);
    } catch (error) {
      // The workload rotated its key (or restarted): verify it again, then retry once.
      if (!(error instanceof StaleKeyError)) throw error;
      await this.reattest();
      try {
        return await sendEncapsulated(this.#channel(), request, body);
      } catch (retryError) {
        // Still refused with freshly verified keys: report the gateway's own reason.
        throw retryError instanceof StaleKeyError ? retryError.cause : retryError;
      }
    }
  };

  #channel(): Channel {
    const state = this.#state;
    return {
      gateway: this.url,
      keyConfig: state.keyConfig,
      receiptKey: state.manifest.receiptKey.publicKey,
      manifestDigest: state.manifestDigest,
      fetch: this.#options.fetch ?? globalThis.fetch,
      ...(this.#options.suite === undefined ? {} : { suite: this.#options.suite }),
      ...(this.#options.onReceipt === undefined ? {} : { onReceipt: this.#options.onReceipt }),
    };
  }
}

/** connect(url, { policy }) -> a verified Session. */
export function connect(url: string | URL, options: ConnectOptions = {}): Promise<Session> {
  return Session.connect(url, options);
}

interface Verified {
  readonly result: AttestationResult;
  readonly manifest: WorkloadManifest;
  readonly manifestDigest: string;
  readonly keyConfig: KeyConfig;
}

async function verify(url: URL, options: ConnectOptions): Promise<Verified> {
  const nonce = options.fresh === false ? undefined : crypto.getRandomValues(new Uint8Array(32));
  const verification = await fetchAttestation(url, {
    policy: options.policy ?? DEFAULT_POLICY,
    ...(nonce === undefined ? {} : { nonce }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(options.collateral === undefined ? {} : { collateral: options.collateral }),
    ...(options.rimVerifier === undefined ? {} : { rimVerifier: options.rimVerifier }),
  });
  const { result, manifest } = verification;
  if (result.verdict === "contraindicated" || manifest === undefined)
    throw new AttestationRefusedError(result);
  return {
    result,
    manifest,
    manifestDigest: await manifestDigest(manifest),
    keyConfig: pickKeyConfig(manifest),
  };
}

function pickKeyConfig(manifest: WorkloadManifest): KeyConfig {
  const configs = decodeKeyConfigList(fromBase64Url(manifest.ohttpKeys) ?? new Uint8Array());
  const usable = configs.find((c) => c.kemId === 0x0020);
  if (usable === undefined) {
    throw new CloisterError(
      "channel.no_key",
      "The attested manifest offers no OHTTP key this client supports (X25519).",
    );
  }
  return usable;
}
