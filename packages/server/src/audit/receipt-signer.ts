import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { formatReceipt, type ReceiptBody, receiptSigningInput } from "@cloister/core";

export interface ReceiptFacts {
  /** "sha256:<hex>" of the model that answered, "unverified" for an upstream engine, "none" without a model. */
  readonly model: string;
  /** "sha256:<hex>" of the request bytes as encapsulated. */
  readonly request: string;
  /** "sha256:<hex>" of the response content as delivered (hashed as it streams). */
  readonly response: string;
  readonly status: number;
}

/**
 * Signs per-response receipts with an Ed25519 key that lives only in this process (inside the
 * TEE); its public half is in the manifest, so receipts are attested. Signing uses Node's
 * synchronous Ed25519 (OpenSSL): no thread-pool round trip on every response.
 */
export class ReceiptSigner {
  readonly publicKey: Uint8Array;
  readonly #privateKey: KeyObject;
  readonly #manifestDigest: () => string;
  #seq = 0;

  /** `manifestDigest` is read at signing time: the manifest embeds this signer's key, so it is built after. */
  constructor(manifestDigest: () => string) {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    // The raw 32-byte key is the tail of its SubjectPublicKeyInfo encoding.
    this.publicKey = new Uint8Array(
      publicKey.export({ format: "der", type: "spki" }).subarray(-32),
    );
    this.#privateKey = privateKey;
    this.#manifestDigest = manifestDigest;
  }

  sign(facts: ReceiptFacts): string {
    this.#seq += 1;
    const body: ReceiptBody = {
      v: 1,
      seq: this.#seq,
      time: new Date().toISOString(),
      manifest: this.#manifestDigest(),
      model: facts.model,
      request: facts.request,
      response: facts.response,
      status: facts.status,
    };
    return formatReceipt(
      body,
      new Uint8Array(sign(null, receiptSigningInput(body), this.#privateKey)),
    );
  }
}
