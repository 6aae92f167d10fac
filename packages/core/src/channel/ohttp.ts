import type { EncryptionContext } from "@hpke/core";
import type { Suite } from "./constants.js";
import { OhttpError } from "./errors.js";
import type { GatewayKey } from "./gateway-key.js";
import {
  exportSecret,
  NO_AAD,
  REQUEST_LABEL,
  seal,
  setupRecipient,
  setupSender,
} from "./hpke-setup.js";
import type { KeyConfig } from "./key-config.js";
import { deriveResponseKey, RESPONSE_LABEL, responseNonce } from "./response-key.js";
import type { SuiteRuntime } from "./suites.js";

/** The client's side of one OHTTP exchange (RFC 9458), whole messages. */
export interface ClientRequest {
  /** The message/ohttp-req body to send. */
  readonly encapsulated: Uint8Array;
  /** Decrypts the message/ohttp-res body the gateway answered with. */
  openResponse(encapsulatedResponse: Uint8Array): Promise<Uint8Array>;
  /** HPKE Export from this exchange's context, for protocols bound to the same session. */
  exportSecret(exporterContext: Uint8Array, length: number): Promise<Uint8Array>;
}

/** The gateway's side of one OHTTP exchange, after the request decrypted. */
export interface GatewayRequest {
  readonly request: Uint8Array;
  readonly keyId: number;
  /** The client's encapsulated key: unique per request, so a replay cache keys on it. */
  readonly enc: Uint8Array;
  /** Encrypts the response; `responseNonce` fixes the nonce, for test vectors only. */
  sealResponse(response: Uint8Array, options?: { responseNonce?: Uint8Array }): Promise<Uint8Array>;
  exportSecret(exporterContext: Uint8Array, length: number): Promise<Uint8Array>;
}

export interface EncapsulateOptions {
  /** The HPKE suite; by default HKDF-SHA256 with AES-128-GCM when offered. */
  readonly suite?: Suite;
  /** A fixed ephemeral private key (raw X25519), for test vectors only. */
  readonly ephemeralPrivateKey?: Uint8Array;
}

export async function encapsulateRequest(
  config: KeyConfig,
  request: Uint8Array,
  options: EncapsulateOptions = {},
): Promise<ClientRequest> {
  const { runtime, context, prefix, enc } = await setupSender(config, REQUEST_LABEL, options);
  const sealed = await seal(context, request);
  const encapsulated = new Uint8Array(prefix.length + sealed.length);
  encapsulated.set(prefix);
  encapsulated.set(sealed, prefix.length);
  return {
    encapsulated,
    openResponse: (bytes) => openResponse(runtime, context, enc, bytes),
    exportSecret: (label, length) => exportSecret(context, label, length),
  };
}

export async function decapsulateRequest(
  keys: readonly GatewayKey[],
  encapsulated: Uint8Array,
): Promise<GatewayRequest> {
  const { runtime, context, keyId, enc, bodyOffset } = await setupRecipient(
    keys,
    encapsulated,
    REQUEST_LABEL,
  );
  if (encapsulated.length - bodyOffset < runtime.aead.tagSize) {
    throw new OhttpError(
      "ohttp.malformed",
      "The encapsulated request is shorter than an AEAD tag.",
    );
  }
  let request: Uint8Array;
  try {
    request = new Uint8Array(await context.open(encapsulated.subarray(bodyOffset)));
  } catch (cause) {
    throw new OhttpError("ohttp.decrypt", "The encapsulated request did not authenticate.", {
      cause,
    });
  }
  return {
    request,
    keyId,
    enc,
    async sealResponse(response, options = {}) {
      const nonce = responseNonce(runtime, options.responseNonce);
      const key = await deriveResponseKey(runtime, context, RESPONSE_LABEL, enc, nonce);
      const sealed = new Uint8Array(await key.aead.seal(key.nonce, response, NO_AAD));
      const out = new Uint8Array(nonce.length + sealed.length);
      out.set(nonce);
      out.set(sealed, nonce.length);
      return out;
    },
    exportSecret: (label, length) => exportSecret(context, label, length),
  };
}

async function openResponse(
  runtime: SuiteRuntime,
  context: EncryptionContext,
  enc: Uint8Array,
  bytes: Uint8Array,
): Promise<Uint8Array> {
  const nonceLength = runtime.entropyLength;
  if (bytes.length < nonceLength + runtime.aead.tagSize) {
    throw new OhttpError(
      "ohttp.malformed",
      `The encapsulated response has ${bytes.length} bytes, fewer than its nonce and AEAD tag.`,
    );
  }
  const key = await deriveResponseKey(
    runtime,
    context,
    RESPONSE_LABEL,
    enc,
    bytes.subarray(0, nonceLength),
  );
  try {
    return new Uint8Array(await key.aead.open(key.nonce, bytes.subarray(nonceLength), NO_AAD));
  } catch (cause) {
    throw new OhttpError("ohttp.decrypt", "The encapsulated response did not authenticate.", {
      cause,
    });
  }
}
