import { fromBase64Url, fromHex, fromUtf8 } from "../../../bytes.js";
import { ParseError } from "../../../errors.js";

/**
 * The runtime data the paravisor hashes into REPORT_DATA: a JSON object with the vTPM's public
 * keys, the VM configuration and (newer paravisors) 64 bytes of guest-chosen user data. Its
 * HCLAkPub key is what makes the vTPM quote (and so the nonce) trustworthy: the quote is only
 * as good as the proof that this key lives in the attested VM.
 */
export interface RuntimeData {
  /** The vTPM attestation key (kid "HCLAkPub"), RSA. */
  readonly akPub: JsonWebKey & { readonly kid: string };
  /** The vTPM endorsement key (kid "HCLEkPub"), when present. */
  readonly ekPub?: JsonWebKey & { readonly kid: string };
  readonly keys: readonly JsonWebKey[];
  readonly vmConfiguration?: Readonly<Record<string, unknown>>;
  /** "user-data" decoded from hex. */
  readonly userData?: Uint8Array;
}

export const AK_KID = "HCLAkPub";
export const EK_KID = "HCLEkPub";

const CODE = "azure.runtime_data.malformed";

/** Total: returns the decoded runtime data or throws a ParseError naming the field. */
export function parseRuntimeData(bytes: Uint8Array): RuntimeData {
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new ParseError(CODE, "runtime data", "is not UTF-8 JSON");
  }
  if (!isRecord(json)) throw new ParseError(CODE, "runtime data", "is not a JSON object");

  const keys = json.keys;
  if (!Array.isArray(keys) || !keys.every(isRecord)) {
    throw new ParseError(CODE, "runtime data keys", "is not an array of JWK objects");
  }
  const akPub = findRsaKey(keys, AK_KID);
  if (akPub === undefined) {
    throw new ParseError(
      "azure.runtime_data.ak_missing",
      "runtime data keys",
      `has no RSA key with kid "${AK_KID}" (the vTPM attestation key)`,
    );
  }
  const ekPub = findRsaKey(keys, EK_KID);

  const vmConfiguration = json["vm-configuration"];
  if (vmConfiguration !== undefined && !isRecord(vmConfiguration)) {
    throw new ParseError(CODE, "runtime data vm-configuration", "is not a JSON object");
  }
  const userDataHex = json["user-data"];
  let userData: Uint8Array | undefined;
  if (userDataHex !== undefined) {
    userData = typeof userDataHex === "string" ? fromHex(userDataHex) : undefined;
    if (userData === undefined) {
      throw new ParseError(CODE, "runtime data user-data", "is not a hex string");
    }
  }

  return {
    akPub,
    ...(ekPub === undefined ? {} : { ekPub }),
    keys: keys as JsonWebKey[],
    ...(vmConfiguration === undefined ? {} : { vmConfiguration }),
    ...(userData === undefined ? {} : { userData }),
  };
}

/**
 * The key with this kid, checked to be a usable RSA public key: a malformed AK must fail here
 * as a parse error, not later as a confusing signature failure. Duplicate kids are refused
 * because which one a verifier picks would be arbitrary.
 */
function findRsaKey(
  keys: readonly Record<string, unknown>[],
  kid: string,
): (JsonWebKey & { kid: string }) | undefined {
  const matches = keys.filter((k) => k.kid === kid);
  if (matches.length === 0) return undefined;
  const field = `runtime data key ${kid}`;
  if (matches.length > 1) throw new ParseError(CODE, field, "appears more than once");
  const key = matches[0] as Record<string, unknown>;
  if (key.kty !== "RSA") throw new ParseError(CODE, field, 'is not an RSA key (kty "RSA")');
  for (const part of ["n", "e"] as const) {
    const value = key[part];
    const decoded = typeof value === "string" ? fromBase64Url(value) : undefined;
    if (decoded === undefined || decoded.length === 0) {
      throw new ParseError(CODE, `${field} ${part}`, "is not a non-empty base64url string");
    }
  }
  return key as unknown as JsonWebKey & { kid: string };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
