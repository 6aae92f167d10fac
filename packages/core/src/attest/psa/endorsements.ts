import { concat, fromHex, fromUtf8, sha256, toHex } from "../../bytes.js";
import { ParseError } from "../../errors.js";
import { ecPoint, ecPublicJwk } from "../cose/keys.js";

/**
 * PSA has no certificate chain: a device's Initial Attestation Key (IAK) is endorsed out of band,
 * by the manufacturer's provisioning records, keyed by the device's instance ID. Cloister takes
 * those endorsements as collateral "psa_endorsements", JSON (or PEM) text in one of two forms:
 *
 * - a key store, each IAK bound to the instance it was provisioned into:
 *     {"keys": [{"instanceId": "01fa5875…0248", "key": <EC public JWK or PEM "PUBLIC KEY">}]}
 *   A token from an instance not listed is refused (psa.key.unknown_instance).
 * - a single key (a JWK object, or PEM text): a trust anchor that applies to any instance. Use it
 *   for one device, or for a fleet sharing a key (as TF-M's well-known test key is shared).
 *
 * instanceId is the 33-byte psa-instance-id claim in hex (0x01 followed by the key hash).
 */
export type PsaEndorsements =
  | { readonly kind: "store"; readonly keys: ReadonlyMap<string, JsonWebKey> }
  | { readonly kind: "anchor"; readonly key: JsonWebKey };

export const PSA_ENDORSEMENTS_INVALID = "psa.endorsements.invalid";

const FIELD = "psa_endorsements";

/** Reads the collateral value (bytes or text). Every mistake is a ParseError naming its entry. */
export function parsePsaEndorsements(value: Uint8Array | string): PsaEndorsements {
  let text: string;
  try {
    text = typeof value === "string" ? value : fromUtf8(value);
  } catch {
    throw new ParseError(PSA_ENDORSEMENTS_INVALID, FIELD, "is not UTF-8 text");
  }
  if (text.trimStart().startsWith("-----BEGIN")) {
    return { kind: "anchor", key: ecPublicJwk(text, FIELD, PSA_ENDORSEMENTS_INVALID) };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ParseError(PSA_ENDORSEMENTS_INVALID, FIELD, "is neither JSON nor PEM text");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ParseError(PSA_ENDORSEMENTS_INVALID, FIELD, "is not a JSON object");
  }
  if (!("keys" in json)) {
    return { kind: "anchor", key: keyOf(json, FIELD) };
  }
  const list = (json as { keys: unknown }).keys;
  if (!Array.isArray(list)) {
    throw new ParseError(PSA_ENDORSEMENTS_INVALID, `${FIELD}.keys`, "is not a list");
  }
  const keys = new Map<string, JsonWebKey>();
  list.forEach((entry: unknown, i) => {
    const field = `${FIELD}.keys[${i}]`;
    if (typeof entry !== "object" || entry === null) {
      throw new ParseError(PSA_ENDORSEMENTS_INVALID, field, "is not an object");
    }
    const { instanceId, key } = entry as { instanceId?: unknown; key?: unknown };
    const id = typeof instanceId === "string" ? fromHex(instanceId) : undefined;
    if (id === undefined || id.length !== 33 || id[0] !== 0x01) {
      throw new ParseError(
        PSA_ENDORSEMENTS_INVALID,
        `${field}.instanceId`,
        "is not the hex of a 33-byte instance ID starting 01",
      );
    }
    const hex = toHex(id);
    // Two keys for one instance would leave the choice to the order of the file.
    if (keys.has(hex)) {
      throw new ParseError(PSA_ENDORSEMENTS_INVALID, `${field}.instanceId`, "is listed twice");
    }
    keys.set(hex, keyOf(key, `${field}.key`));
  });
  return { kind: "store", keys };
}

/** The endorsed IAK for an instance (lower-case hex), or undefined when none is. */
export function endorsedKey(
  endorsements: PsaEndorsements,
  instanceId: string,
): JsonWebKey | undefined {
  return endorsements.kind === "anchor" ? endorsements.key : endorsements.keys.get(instanceId);
}

function keyOf(value: unknown, field: string): JsonWebKey {
  if (typeof value === "string") return ecPublicJwk(value, field, PSA_ENDORSEMENTS_INVALID);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ParseError(PSA_ENDORSEMENTS_INVALID, field, "is neither a JWK nor PEM text");
  }
  return ecPublicJwk(value as JsonWebKey, field, PSA_ENDORSEMENTS_INVALID);
}

/**
 * The instance ID a PSA RoT derives from its IAK, as TF-M does: 0x01 (EUID type RAND) followed
 * by SHA-256 of the key's uncompressed point. RoTs free to choose otherwise report their own.
 */
export async function psaInstanceIdOf(jwk: JsonWebKey): Promise<Uint8Array> {
  return concat([new Uint8Array([0x01]), await sha256(ecPoint(jwk))]);
}
