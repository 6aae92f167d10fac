import { concat, fromBase64Url, fromUtf8, toBase64Url, utf8 } from "../bytes.js";
import { CloisterError } from "../errors.js";
import { canonicalJson } from "../manifest/canonical-json.js";
import { UNVERIFIED_MODEL } from "../manifest/manifest.js";

/**
 * A per-response receipt: the workload's signed statement that it answered this request with
 * this response, using this model, under this manifest. Each receipt is one self-contained
 * signed record (canonical JSON), so it can later become a leaf of a transparency log as is.
 */
export interface ReceiptBody {
  readonly v: 1;
  /** Per-workload sequence number, from 1; gaps show receipts that were issued but not seen. */
  readonly seq: number;
  /** RFC 3339 UTC time of signing. */
  readonly time: string;
  /** "sha256:<hex>" of the canonical manifest (see manifestDigest). */
  readonly manifest: string;
  /** "sha256:<hex>" of the model that answered, "unverified" (see ManifestModel), or "none" without a model. */
  readonly model: string;
  /** "sha256:<hex>" of the request exactly as encapsulated (its Binary HTTP bytes). */
  readonly request: string;
  /** "sha256:<hex>" of the response content bytes exactly as delivered. */
  readonly response: string;
  /** The HTTP status of the response. */
  readonly status: number;
}

/** Receipts travel in this field (a Binary HTTP trailer, inside the encryption). */
export const RECEIPT_FIELD = "cloister-receipt";

const LABEL = utf8("cloister/receipt/v1\n");

/** The bytes the receipt key signs: a domain-separation label, then the canonical body. */
export function receiptSigningInput(body: ReceiptBody): Uint8Array {
  return concat([LABEL, utf8(canonicalJson(body))]);
}

/** Wire form: base64url(canonical body) "." base64url(Ed25519 signature). */
export function formatReceipt(body: ReceiptBody, signature: Uint8Array): string {
  return `${toBase64Url(utf8(canonicalJson(body)))}.${toBase64Url(signature)}`;
}

export class ReceiptError extends CloisterError {}

export interface ParsedReceipt {
  readonly body: ReceiptBody;
  readonly signature: Uint8Array;
}

export function parseReceipt(text: string): ParsedReceipt {
  const [bodyPart, sigPart, ...rest] = text.split(".");
  const bodyBytes = bodyPart === undefined ? undefined : fromBase64Url(bodyPart);
  const signature = sigPart === undefined ? undefined : fromBase64Url(sigPart);
  if (
    rest.length > 0 ||
    bodyBytes === undefined ||
    signature === undefined ||
    signature.length !== 64
  ) {
    throw new ReceiptError(
      "receipt.parse",
      "The receipt is not two base64url parts (body and a 64-byte signature).",
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(fromUtf8(bodyBytes));
  } catch {
    throw new ReceiptError("receipt.parse", "The receipt body is not UTF-8 JSON.");
  }
  return { body: checkBody(body), signature };
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function checkBody(value: unknown): ReceiptBody {
  const b = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const ok =
    b.v === 1 &&
    Number.isSafeInteger(b.seq) &&
    (b.seq as number) >= 1 &&
    typeof b.time === "string" &&
    !Number.isNaN(Date.parse(b.time)) &&
    typeof b.manifest === "string" &&
    DIGEST.test(b.manifest) &&
    typeof b.model === "string" &&
    (b.model === "none" || b.model === UNVERIFIED_MODEL || DIGEST.test(b.model)) &&
    typeof b.request === "string" &&
    DIGEST.test(b.request) &&
    typeof b.response === "string" &&
    DIGEST.test(b.response) &&
    Number.isSafeInteger(b.status);
  if (!ok)
    throw new ReceiptError(
      "receipt.parse",
      "The receipt body does not have the fields of a v1 receipt.",
    );
  return b as unknown as ReceiptBody;
}
