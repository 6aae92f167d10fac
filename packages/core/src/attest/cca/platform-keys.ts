import { fromUtf8 } from "../../bytes.js";
import { ParseError } from "../../errors.js";
import { ecPublicJwk } from "../cose/keys.js";

const KEY = "cca.platform.key";
const FIELD = "collateral.cca_platform_keys";

/**
 * One trusted CPAK. When the anchor names the platform (implementation ID and instance ID, as a
 * Veraison trust-anchor store does), it vouches only for tokens from that platform.
 */
export interface CcaPlatformKey {
  readonly jwk: JsonWebKey;
  /** Lower-case hex; absent: any implementation. */
  readonly implementationId?: string;
  /** Lower-case hex; absent: any instance. */
  readonly instanceId?: string;
}

/**
 * The CPAK trust anchors from collateral: PEM "PUBLIC KEY" text, an EC JWK, one
 * {"pkey", "implementation-id", "instance-id"} entry or a JSON list of JWKs and entries.
 * Bytes are read as UTF-8 text. Anything else is a ParseError "cca.platform.key".
 */
export function parseCcaPlatformKeys(collateral: Uint8Array | string): CcaPlatformKey[] {
  const text = typeof collateral === "string" ? collateral : fromUtf8(collateral);
  if (text.includes("-----BEGIN")) return [{ jwk: ecPublicJwk(text, FIELD, KEY) }];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ParseError(KEY, FIELD, "is neither PEM nor JSON");
  }
  const entries = Array.isArray(json) ? json : [json];
  if (entries.length === 0) throw new ParseError(KEY, FIELD, "lists no keys");
  return entries.map((entry, i) => platformKey(entry, `${FIELD}[${i}]`));
}

/** The anchors that vouch for the platform with these IDs (lower-case hex). */
export function ccaAnchorsFor(
  keys: readonly CcaPlatformKey[],
  implementationId: string,
  instanceId: string,
): CcaPlatformKey[] {
  return keys.filter(
    (key) =>
      (key.implementationId === undefined || key.implementationId === implementationId) &&
      (key.instanceId === undefined || key.instanceId === instanceId),
  );
}

function platformKey(entry: unknown, field: string): CcaPlatformKey {
  if (typeof entry !== "object" || entry === null) {
    throw new ParseError(KEY, field, "is not a JWK or a trust-anchor entry");
  }
  const record = entry as Record<string, unknown>;
  if (record.pkey === undefined) return { jwk: ecPublicJwk(record as JsonWebKey, field, KEY) };
  const pkey = record.pkey;
  const jwk =
    typeof pkey === "string"
      ? ecPublicJwk(pkey, `${field}.pkey`, KEY)
      : ecPublicJwk((pkey ?? {}) as JsonWebKey, `${field}.pkey`, KEY);
  return {
    jwk,
    ...optionalId(record["implementation-id"], `${field}.implementation-id`, "implementationId"),
    ...optionalId(record["instance-id"], `${field}.instance-id`, "instanceId"),
  };
}

function optionalId(value: unknown, field: string, name: string): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== "string" || !/^([0-9a-fA-F]{2})+$/.test(value)) {
    throw new ParseError(KEY, field, "is not hex");
  }
  return { [name]: value.toLowerCase() };
}
