import { CloisterError, fromBase64Url, toBase64Url } from "@cloister/core";
import type { JWK } from "jose";
import { ModelKey, type ModelKeyring, modelKeyring } from "./model-key.js";

/** A model key as a JSON Web Key (RFC 7517): `{ "kty": "oct", "kid": ID, "k": base64url }`. */
export function modelKeyToJwk(key: ModelKey): JWK & { kty: "oct"; kid: string; k: string } {
  return { kty: "oct", kid: key.id, k: toBase64Url(key.bytes) };
}

/**
 * Reads one symmetric JWK. `where` names the source in errors; the key bytes never appear in
 * them. Members other than kty, kid and k (use, key_ops, ...) are ignored.
 */
export function modelKeyFromJwk(value: unknown, where: string): ModelKey {
  const bad = (why: string) => new CloisterError("model.key.malformed", `${where}: ${why}`);
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw bad('expected a JSON Web Key object { "kty": "oct", "kid": ..., "k": ... }.');
  const jwk = value as Record<string, unknown>;
  if (jwk.kty !== "oct") throw bad('the key type ("kty") must be "oct".');
  if (typeof jwk.kid !== "string") throw bad('the key ID ("kid") must be a string.');
  if (typeof jwk.k !== "string") throw bad('the key ("k") must be a base64url string.');
  const bytes = fromBase64Url(jwk.k);
  if (bytes === undefined) throw bad(`the key "${jwk.kid}" is not valid base64url.`);
  try {
    return new ModelKey(jwk.kid, bytes);
  } catch (error) {
    if (error instanceof CloisterError) throw bad(error.message);
    throw error;
  }
}

/** Parses JSON text holding one JWK or a JWK Set (`{ "keys": [...] }`). */
export function modelKeysFromJson(text: string, where: string): ModelKeyring {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse's message may quote the input, which is key material.
    throw new CloisterError("model.key.malformed", `${where}: not valid JSON.`);
  }
  if (typeof value === "object" && value !== null && "keys" in value) {
    const keys = (value as { keys: unknown }).keys;
    if (!Array.isArray(keys))
      throw new CloisterError("model.key.malformed", `${where}: "keys" must be an array of JWKs.`);
    return modelKeyring(keys.map((k, i) => modelKeyFromJwk(k, `${where} keys[${i}]`)));
  }
  return modelKeyring([modelKeyFromJwk(value, where)]);
}

export const MODEL_KEYS_ENV = "CLOISTER_MODEL_KEYS";

/** The keys the environment provides in CLOISTER_MODEL_KEYS (a JWK or a JWK Set); empty when unset. */
export function modelKeysFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): ModelKeyring {
  const text = env[MODEL_KEYS_ENV];
  if (text === undefined || text.trim() === "") return new Map();
  return modelKeysFromJson(text, MODEL_KEYS_ENV);
}
