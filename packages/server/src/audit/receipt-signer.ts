import { webcrypto } from "node:crypto";
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
 * TEE); its public half is in the manifest, so receipts are attested.
 */
export class ReceiptSigner {
  readonly publicKey: Uint8Array;
  readonly #privateKey: webcrypto.CryptoKey;
  readonly #manifestDigest: () => string;
  #seq = 0;

  private constructor(
    publicKey: Uint8Array,
    privateKey: webcrypto.CryptoKey,
    manifestDigest: () => string,
  ) {
    this.publicKey = publicKey;
    this.#privateKey = privateKey;
    this.#manifestDigest = manifestDigest;
  }

  /** `manifestDigest` is read at signing time: the manifest embeds this signer's key, so it is built after. */
  static async create(manifestDigest: () => string): Promise<ReceiptSigner> {
    const pair = (await webcrypto.subtle.generateKey({ name: "Ed25519" }, true, [
      "sign",
      "verify",
    ])) as webcrypto.CryptoKeyPair;
    const raw = new Uint8Array(await webcrypto.subtle.exportKey("raw", pair.publicKey));
    return new ReceiptSigner(raw, pair.privateKey, manifestDigest);
  }

  async sign(facts: ReceiptFacts): Promise<string> {
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
    const signature = await webcrypto.subtle.sign(
      { name: "Ed25519" },
      this.#privateKey,
      receiptSigningInput(body),
    );
    return formatReceipt(body, new Uint8Array(signature));
  }
}
