import { asBufferSource, fromBase64Url, sha256, toHex } from "../bytes.js";
import { parseReceipt, type ReceiptBody, ReceiptError, receiptSigningInput } from "./receipt.js";

export interface ReceiptExpectations {
  /** The receipt public key from the attested manifest (base64url, raw Ed25519). */
  readonly publicKey: string;
  /** The manifest digest the session verified. */
  readonly manifest: string;
  /** The exact request bytes the caller encapsulated. */
  readonly request: Uint8Array;
  /** The exact response content bytes the caller received. */
  readonly response: Uint8Array;
}

// A session verifies every response with the same key: import it once.
const imported = new Map<string, Promise<CryptoKey>>();
const MAX_IMPORTED = 16;

function receiptKey(publicKey: string): Promise<CryptoKey> {
  const known = imported.get(publicKey);
  if (known !== undefined) return known;
  const raw = fromBase64Url(publicKey);
  if (raw === undefined || raw.length !== 32) {
    return Promise.reject(
      new ReceiptError(
        "receipt.key",
        "The attested receipt key is not a 32-byte Ed25519 public key.",
      ),
    );
  }
  const key = crypto.subtle.importKey("raw", asBufferSource(raw), { name: "Ed25519" }, false, [
    "verify",
  ]);
  if (imported.size >= MAX_IMPORTED) imported.delete(imported.keys().next().value as string);
  imported.set(publicKey, key);
  return key;
}

/**
 * Checks a receipt against the attested receipt key and against what the caller actually sent
 * and received. Throws a ReceiptError naming the first mismatch.
 */
export async function verifyReceipt(
  text: string,
  expected: ReceiptExpectations,
): Promise<ReceiptBody> {
  const { body, signature } = parseReceipt(text);
  const key = await receiptKey(expected.publicKey);
  const valid = await crypto.subtle.verify(
    { name: "Ed25519" },
    key,
    asBufferSource(signature),
    asBufferSource(receiptSigningInput(body)),
  );
  if (!valid)
    throw new ReceiptError(
      "receipt.signature",
      "The receipt's signature does not verify with the attested receipt key.",
    );
  if (body.manifest !== expected.manifest) {
    throw new ReceiptError(
      "receipt.manifest",
      "The receipt names a different workload manifest than the one attested.",
    );
  }
  if (body.request !== `sha256:${toHex(await sha256(expected.request))}`) {
    throw new ReceiptError(
      "receipt.request",
      "The receipt is for a different request than the one sent.",
    );
  }
  if (body.response !== `sha256:${toHex(await sha256(expected.response))}`) {
    throw new ReceiptError(
      "receipt.response",
      "The receipt is for a different response than the one received.",
    );
  }
  return body;
}
