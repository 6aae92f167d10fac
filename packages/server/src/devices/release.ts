import {
  type AttestationResult,
  attest,
  CloisterError,
  concat,
  type Policy,
  PSA_COLLATERAL,
  PSA_TOKEN_FORMAT,
  type ReleaseChallenge,
  type ReleasedKey,
  type ReleaseReason,
  type ReleaseRequest,
  releaseNonce,
  wrapReleasedKey,
} from "@cloister/core";
import { ChallengeStore } from "./challenges.js";
import { readDeviceRegistry } from "./registry.js";

export interface DeviceReleaseOptions {
  /** The enrolled devices (see registry.ts); read on every release. */
  readonly registryPath: string;
  /** What a device's token must satisfy; it must accept the "psa" platform. */
  readonly policy: Policy;
  /** The keys devices may obtain, by key id (32-byte model keys). */
  readonly keys: ReadonlyMap<string, { readonly bytes: Uint8Array }>;
  /** How long a device has to answer a challenge (default two minutes). */
  readonly challengeTtlMs?: number;
  readonly clock?: () => Date;
}

export type ReleaseOutcome =
  | { readonly kind: "released"; readonly key: ReleasedKey; readonly result: AttestationResult }
  | {
      readonly kind: "refused";
      /** 403 when the device did not prove what the policy asks, 404 for an unknown key id. */
      readonly status: 403 | 404;
      readonly reasons: readonly ReleaseReason[];
      readonly result?: AttestationResult;
    };

/**
 * Attestation-gated key release to edge devices: a key leaves only sealed to the one-time
 * public key that the device's PSA token binds, after the token verified with an enrolled IAK
 * and the policy affirmed it. Everything else is a refusal that says why, and never the key.
 */
export class DeviceKeyRelease {
  readonly #options: DeviceReleaseOptions;
  readonly #challenges: ChallengeStore;
  readonly #clock: () => Date;

  constructor(options: DeviceReleaseOptions) {
    if (!options.policy.platforms.includes("psa")) {
      throw new CloisterError(
        "device.release.policy",
        'The device release policy must accept the "psa" platform (its "platforms" list).',
      );
    }
    this.#options = options;
    this.#clock = options.clock ?? (() => new Date());
    this.#challenges = new ChallengeStore({
      ttlMs: options.challengeTtlMs ?? 120_000,
      capacity: 10_000,
    });
  }

  /** What callers may check in the workload's configuration digest: the policy and key ids, never keys. */
  describe(): { readonly policy: Policy; readonly keyIds: readonly string[] } {
    return { policy: this.#options.policy, keyIds: [...this.#options.keys.keys()].sort() };
  }

  challenge(): ReleaseChallenge {
    return this.#challenges.issue(this.#clock());
  }

  async release(request: ReleaseRequest): Promise<ReleaseOutcome> {
    const now = this.#clock();
    const challenge = this.#challenges.take(request.challengeId, now);
    if (challenge === undefined) {
      return refused(403, [
        {
          code: "device.release.challenge",
          message: "The challenge is unknown, already used or expired: ask for a new one.",
        },
      ]);
    }
    const nonce = await releaseNonce(challenge, request.publicKey);
    const result = await attest(
      { platform: "psa", format: PSA_TOKEN_FORMAT, data: request.token },
      this.#options.policy,
      {
        now,
        collateral: {
          [PSA_COLLATERAL.endorsements]: await readDeviceRegistry(this.#options.registryPath),
        },
        expectedReportData: concat([nonce, new Uint8Array(64 - nonce.length)]),
        binds: "the release challenge and the device's public key",
      },
    );
    if (result.verdict !== "affirming") {
      const reasons = result.checks.filter((c) => c.status === "fail" || c.status === "warn");
      return refused(403, reasons.map(reason), result);
    }
    const key = this.#options.keys.get(request.keyId);
    if (key === undefined) {
      return refused(
        404,
        [
          {
            code: "device.release.unknown_key",
            message: `No key with id ${request.keyId} is offered to devices.`,
          },
        ],
        result,
      );
    }
    const wrapped = await wrapReleasedKey(key.bytes, request.publicKey, {
      challengeId: request.challengeId,
      keyId: request.keyId,
    });
    return { kind: "released", key: wrapped, result };
  }
}

function reason(check: { code: string; message: string }): ReleaseReason {
  return { code: check.code, message: check.message };
}

function refused(
  status: 403 | 404,
  reasons: readonly ReleaseReason[],
  result?: AttestationResult,
): ReleaseOutcome {
  return { kind: "refused", status, reasons, ...(result === undefined ? {} : { result }) };
}
