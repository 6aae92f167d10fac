import { concat, utf8 } from "../bytes.js";

/** The only DSSE payload type model signatures use: an in-toto Statement in JSON. */
export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

/**
 * DSSE v1 pre-authentication encoding, the bytes a DSSE signature covers:
 * "DSSEv1" SP len(type) SP type SP len(payload) SP payload, lengths in bytes as decimal.
 * Signing the type along with the payload is what stops a payload being re-read as another type.
 */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8(payloadType);
  return concat([utf8(`DSSEv1 ${type.length} `), type, utf8(` ${payload.length} `), payload]);
}
