import { decode, Tag } from "cbor2";
import { ParseError } from "../../errors.js";
import { type CoseSign1, decodeCoseSign1 } from "../cose/sign1.js";

const MALFORMED = "cca.token.malformed";

/** The CBOR tag of the CCA token collection (Arm CCA RMM spec, draft-ffm-rats-cca-token). */
const CCA_TOKEN_TAG = 399;
/** The CBOR tag of a CMW collection (draft-ietf-rats-msg-wrap), Veraison's newer envelope. */
const CMW_COLLECTION_TAG = 907;
/** CoAP content format of each CMW entry: application/eat+cwt (a COSE-signed EAT). */
const CMW_EAT_CWT = 263;

/** Collection keys (0xACCA and 0xACD1). */
export const CCA_PLATFORM_TOKEN = 44234;
export const CCA_REALM_TOKEN = 44241;

export type CcaEnvelope = "cca-token-399" | "cmw-collection-907";

/** Both signed halves of a CCA token, decoded but not yet verified. */
export interface CcaToken {
  readonly envelope: CcaEnvelope;
  /** Signed by the CPAK; its challenge is the hash of the RAK. */
  readonly platform: CoseSign1;
  /** Signed by the realm attestation key (RAK) it carries in claim 44237. */
  readonly realm: CoseSign1;
}

/**
 * Reads the CCA token collection: tag 399 over {44234: bstr, 44241: bstr}, or tag 907 over the
 * same keys with CMW entries [263, bstr]. Anything else is a ParseError "cca.token.malformed".
 */
export function decodeCcaToken(bytes: Uint8Array): CcaToken {
  let item: unknown;
  try {
    item = decode(bytes, { preferMap: true });
  } catch {
    throw new ParseError(MALFORMED, "token", "is not a single well-formed CBOR item");
  }
  if (!(item instanceof Tag) || !(item.contents instanceof Map)) {
    throw new ParseError(MALFORMED, "token", "is not a tagged CBOR collection map", 0);
  }
  let envelope: CcaEnvelope;
  if (item.tag === CCA_TOKEN_TAG) envelope = "cca-token-399";
  else if (item.tag === CMW_COLLECTION_TAG) envelope = "cmw-collection-907";
  else {
    throw new ParseError(
      MALFORMED,
      "token",
      `carries CBOR tag ${String(item.tag)}, not 399 (CCA token) or 907 (CMW collection)`,
      0,
    );
  }
  const collection = item.contents as Map<unknown, unknown>;
  const entry = (key: number, field: string): CoseSign1 => {
    const value = collection.get(key);
    const inner = envelope === "cca-token-399" ? value : cmwPayload(value, field);
    if (!(inner instanceof Uint8Array)) {
      throw new ParseError(MALFORMED, field, `(collection key ${key}) is missing or not bytes`);
    }
    return decodeCoseSign1(inner, field, MALFORMED);
  };
  return {
    envelope,
    platform: entry(CCA_PLATFORM_TOKEN, "token.platform"),
    realm: entry(CCA_REALM_TOKEN, "token.realm"),
  };
}

function cmwPayload(value: unknown, field: string): unknown {
  if (!Array.isArray(value) || value.length !== 2 || value[0] !== CMW_EAT_CWT) {
    throw new ParseError(MALFORMED, field, `is not a CMW entry [${CMW_EAT_CWT}, bytes]`);
  }
  return value[1];
}
