import { fromBase64Url } from "../bytes.js";
import { ParseError } from "../errors.js";
import { modelKeyIdProblem } from "../models/encrypted/format.js";

/**
 * Edge key release (cloister/edge-release/v1): a device with a PSA root of trust (TrustZone,
 * TF-M) proves its firmware with a PSA token and receives a model-decryption key, sealed to a
 * key pair it generated for this one exchange. The exchange, in two requests:
 *
 * 1. POST {@link CHALLENGE_PATH} → a single-use challenge (32 random bytes) and its id.
 * 2. The device makes an X25519 key pair, asks its RoT for a token whose nonce is
 *    releaseNonce(challenge, publicKey) (binding.ts), and POSTs {@link RELEASE_PATH} with the
 *    token, the public key and the key id it wants. When the token verifies and the policy
 *    holds, the answer is the key sealed to that public key (key-wrap.ts); otherwise a refusal
 *    with the reason codes.
 *
 * Both messages are JSON with base64url byte strings; the server and the device agree on every
 * byte through this module.
 */
export const CHALLENGE_PATH = "/v1/devices/challenge";
export const RELEASE_PATH = "/v1/devices/release";

/** Problem types (RFC 9457) of the release endpoints. */
export const RELEASE_PROBLEMS = {
  /** The device did not prove what the policy asks; `reasons` lists the checks that failed. */
  refused: "https://cloister.dev/problems/device-release-refused",
  /** The request is not a well-formed release request. */
  malformed: "https://cloister.dev/problems/device-release-malformed",
} as const;

export const CHALLENGE_BYTES = 32;
/** The X25519 public key the released key is sealed to. */
export const DEVICE_PUBLIC_KEY_BYTES = 32;
/** Tokens are a few hundred bytes; this bounds what the server decodes. */
const MAX_TOKEN_BYTES = 16 * 1024;

export interface ReleaseChallenge {
  readonly challengeId: string;
  readonly challenge: Uint8Array;
  readonly expiresAt: Date;
}

export interface ReleaseRequest {
  readonly challengeId: string;
  /** The PSA token (COSE_Sign1) as the device's RoT produced it. */
  readonly token: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly keyId: string;
}

/** The released key, sealed with HPKE to the request's public key (see key-wrap.ts). */
export interface ReleasedKey {
  readonly keyId: string;
  readonly enc: Uint8Array;
  readonly wrappedKey: Uint8Array;
}

/** One failed or passed check, as a refusal lists it. */
export interface ReleaseReason {
  readonly code: string;
  readonly message: string;
}

export const RELEASE_MALFORMED = "device.release.malformed";

export function parseReleaseChallenge(json: unknown): ReleaseChallenge {
  const o = object(json, "challenge response");
  const expiresAt = new Date(text(o.expiresAt, "expiresAt"));
  if (Number.isNaN(expiresAt.getTime())) malformed("expiresAt", "is not a date");
  return {
    challengeId: challengeId(o.challengeId),
    challenge: bytes(o.challenge, "challenge", CHALLENGE_BYTES),
    expiresAt,
  };
}

export function parseReleaseRequest(json: unknown): ReleaseRequest {
  const o = object(json, "release request");
  const id = challengeId(o.challengeId);
  const token = bytes(o.token, "token");
  if (token.length === 0 || token.length > MAX_TOKEN_BYTES) {
    malformed("token", `must be 1 to ${MAX_TOKEN_BYTES} bytes`);
  }
  return {
    challengeId: id,
    token,
    publicKey: bytes(o.publicKey, "publicKey", DEVICE_PUBLIC_KEY_BYTES),
    keyId: keyId(o.keyId, "keyId"),
  };
}

export function parseReleasedKey(json: unknown): ReleasedKey {
  const o = object(json, "release response");
  return {
    keyId: keyId(o.keyId, "keyId"),
    enc: bytes(o.enc, "enc", 32),
    wrappedKey: bytes(o.wrappedKey, "wrappedKey"),
  };
}

/** Challenge ids are 16 random bytes, base64url. */
function challengeId(value: unknown): string {
  bytes(value, "challengeId", 16);
  return value as string;
}

/** The ids of model keys (the encrypted-model format's rule). */
function keyId(value: unknown, field: string): string {
  const problem = typeof value === "string" ? modelKeyIdProblem(value) : "is not a string";
  if (problem !== undefined) malformed(field, problem);
  return value as string;
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    malformed(what, "is not a JSON object");
  }
  return value as Record<string, unknown>;
}

function text(value: unknown, field: string): string {
  if (typeof value !== "string") malformed(field, "is not a string");
  return value;
}

function bytes(value: unknown, field: string, length?: number): Uint8Array {
  const decoded = fromBase64Url(text(value, field));
  if (decoded === undefined) malformed(field, "is not base64url");
  if (length !== undefined && decoded.length !== length) {
    malformed(field, `is ${decoded.length} bytes, not ${length}`);
  }
  return decoded;
}

function malformed(field: string, problem: string): never {
  throw new ParseError(RELEASE_MALFORMED, field, problem);
}
