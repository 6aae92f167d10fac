import { randomBytes } from "node:crypto";
import { CHALLENGE_BYTES, type ReleaseChallenge, toBase64Url } from "@cloister/core";

export interface ChallengeStoreOptions {
  /** How long a device has to answer a challenge. */
  readonly ttlMs: number;
  /** Outstanding challenges kept; the oldest go first, so a flood cannot exhaust memory. */
  readonly capacity: number;
}

/**
 * Single-use release challenges. A challenge is consumed by the first release that names it,
 * whatever the outcome, so a token can never be presented twice.
 */
export class ChallengeStore {
  readonly #outstanding = new Map<string, { challenge: Uint8Array; expiresAt: number }>();
  readonly #options: ChallengeStoreOptions;

  constructor(options: ChallengeStoreOptions) {
    this.#options = options;
  }

  issue(now: Date): ReleaseChallenge {
    this.#evict(now.getTime());
    const challengeId = toBase64Url(randomBytes(16));
    const challenge = new Uint8Array(randomBytes(CHALLENGE_BYTES));
    const expiresAt = now.getTime() + this.#options.ttlMs;
    this.#outstanding.set(challengeId, { challenge, expiresAt });
    return { challengeId, challenge, expiresAt: new Date(expiresAt) };
  }

  /** The challenge, once: undefined when unknown, already used or expired. */
  take(challengeId: string, now: Date): Uint8Array | undefined {
    const entry = this.#outstanding.get(challengeId);
    this.#outstanding.delete(challengeId);
    return entry === undefined || entry.expiresAt <= now.getTime() ? undefined : entry.challenge;
  }

  #evict(now: number): void {
    for (const [id, entry] of this.#outstanding) {
      if (entry.expiresAt <= now || this.#outstanding.size >= this.#options.capacity) {
        this.#outstanding.delete(id);
      } else {
        // Insertion order is expiry order: the rest are younger.
        break;
      }
    }
  }
}
