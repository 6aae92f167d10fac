import type { EncryptionContext, SenderContext } from "@hpke/core";
import { utf8 } from "../bytes.js";
import { DEFAULT_SUITE, type Suite } from "./constants.js";
import { OhttpError } from "./errors.js";
import { type GatewayKey, gatewayKeyPair } from "./gateway-key.js";
import type { KeyConfig } from "./key-config.js";
import { hex16, isSupported, KEM_SIZES, type SuiteRuntime, suiteRuntime } from "./suites.js";
import { importX25519KeyPair } from "./x25519.js";

/** HPKE info labels: whole and chunked requests must never open as one another. */
export const REQUEST_LABEL = utf8("message/bhttp request");
export const CHUNKED_REQUEST_LABEL = utf8("message/bhttp chunked request");

/** Requests, responses and their non-final chunks carry no associated data. */
export const NO_AAD = new Uint8Array(0);

/** Key identifier, KEM, KDF and AEAD identifiers: the header both request formats share. */
const HEADER_LENGTH = 7;

export interface SenderSetup {
  readonly runtime: SuiteRuntime;
  readonly context: SenderContext;
  /** hdr || enc, the start of the encapsulated request. */
  readonly prefix: Uint8Array;
  readonly enc: Uint8Array;
}

export interface RecipientSetup {
  readonly runtime: SuiteRuntime;
  readonly context: EncryptionContext;
  readonly keyId: number;
  readonly enc: Uint8Array;
  /** Where the sealed content starts in the encapsulated request. */
  readonly bodyOffset: number;
}

const publicKeys = new WeakMap<KeyConfig, Promise<CryptoKey>>();

/** SetupBaseS towards a key configuration (RFC 9458 section 4.3). */
export async function setupSender(
  config: KeyConfig,
  label: Uint8Array,
  options: { suite?: Suite; ephemeralPrivateKey?: Uint8Array },
): Promise<SenderSetup> {
  const runtime = suiteRuntime(config.kemId, chooseSuite(config, options.suite));
  const hdr = header(config.keyId, runtime);
  const kem = runtime.hpke.kem;
  let recipientPublicKey = publicKeys.get(config);
  if (recipientPublicKey === undefined) {
    recipientPublicKey = kem.deserializePublicKey(config.publicKey);
    publicKeys.set(config, recipientPublicKey);
  }
  const ekm =
    options.ephemeralPrivateKey === undefined
      ? undefined
      : await importX25519KeyPair(kem, options.ephemeralPrivateKey, "ephemeralPrivateKey");
  let context: SenderContext;
  try {
    context = await runtime.hpke.createSenderContext({
      recipientPublicKey: await recipientPublicKey,
      info: info(label, hdr),
      ...(ekm === undefined ? {} : { ekm }),
    });
  } catch (cause) {
    throw new OhttpError(
      "ohttp.invalid_argument",
      "The key configuration's public key is unusable.",
      {
        cause,
      },
    );
  }
  const enc = new Uint8Array(context.enc);
  const prefix = new Uint8Array(HEADER_LENGTH + enc.length);
  prefix.set(hdr);
  prefix.set(enc, HEADER_LENGTH);
  return { runtime, context, prefix, enc };
}

/** Reads the header, picks the gateway key and runs SetupBaseR (RFC 9458 section 4.3). */
export async function setupRecipient(
  keys: readonly GatewayKey[],
  encapsulated: Uint8Array,
  label: Uint8Array,
): Promise<RecipientSetup> {
  if (encapsulated.length < HEADER_LENGTH) {
    throw new OhttpError(
      "ohttp.malformed",
      `The encapsulated request has ${encapsulated.length} bytes, fewer than its ${HEADER_LENGTH}-byte header.`,
    );
  }
  const view = new DataView(encapsulated.buffer, encapsulated.byteOffset, HEADER_LENGTH);
  const keyId = view.getUint8(0);
  const kemId = view.getUint16(1);
  const suite = { kdfId: view.getUint16(3), aeadId: view.getUint16(5) };
  const key = keys.find((k) => k.config.keyId === keyId);
  if (key === undefined) {
    throw new OhttpError("ohttp.unknown_key", `No gateway key has key identifier ${keyId}.`);
  }
  const offered = key.config.suites.some(
    (s) => s.kdfId === suite.kdfId && s.aeadId === suite.aeadId,
  );
  if (kemId !== key.config.kemId || !offered || !isSupported(kemId, suite)) {
    throw new OhttpError(
      "ohttp.unsupported_suite",
      `Key ${keyId} does not offer KEM 0x${hex16(kemId)}, KDF 0x${hex16(suite.kdfId)}, AEAD 0x${hex16(suite.aeadId)}.`,
    );
  }
  const runtime = suiteRuntime(kemId, suite);
  const encLength = (KEM_SIZES.get(kemId) as { enc: number }).enc;
  const bodyOffset = HEADER_LENGTH + encLength;
  if (encapsulated.length < bodyOffset) {
    throw new OhttpError(
      "ohttp.malformed",
      `The encapsulated request ends inside its ${encLength}-byte encapsulated key.`,
    );
  }
  const enc = encapsulated.slice(HEADER_LENGTH, bodyOffset);
  let context: EncryptionContext;
  try {
    context = await runtime.hpke.createRecipientContext({
      recipientKey: await gatewayKeyPair(key),
      enc,
      info: info(label, encapsulated.subarray(0, HEADER_LENGTH)),
    });
  } catch (cause) {
    throw new OhttpError("ohttp.decrypt", "The encapsulated key cannot be decapsulated.", {
      cause,
    });
  }
  return { runtime, context, keyId, enc, bodyOffset };
}

function chooseSuite(config: KeyConfig, wanted: Suite | undefined): Suite {
  const offered = (s: Suite) =>
    config.suites.some((o) => o.kdfId === s.kdfId && o.aeadId === s.aeadId);
  if (wanted !== undefined) {
    if (!offered(wanted) || !isSupported(config.kemId, wanted)) {
      throw new OhttpError(
        "ohttp.unsupported_suite",
        `Key ${config.keyId} does not offer KDF 0x${hex16(wanted.kdfId)} with AEAD 0x${hex16(wanted.aeadId)}, or it is not supported.`,
      );
    }
    return wanted;
  }
  if (offered(DEFAULT_SUITE) && isSupported(config.kemId, DEFAULT_SUITE)) return DEFAULT_SUITE;
  const usable = config.suites.find((s) => isSupported(config.kemId, s));
  if (usable === undefined) {
    throw new OhttpError(
      "ohttp.unsupported_suite",
      `Key ${config.keyId} offers no suite this client supports.`,
    );
  }
  return usable;
}

function header(keyId: number, runtime: SuiteRuntime): Uint8Array {
  if (!Number.isInteger(keyId) || keyId < 0 || keyId > 0xff) {
    throw new OhttpError("ohttp.invalid_argument", "keyId must be an integer from 0 to 255.");
  }
  const hdr = new Uint8Array(HEADER_LENGTH);
  const view = new DataView(hdr.buffer);
  view.setUint8(0, keyId);
  view.setUint16(1, runtime.kemId);
  view.setUint16(3, runtime.suite.kdfId);
  view.setUint16(5, runtime.suite.aeadId);
  return hdr;
}

function info(label: Uint8Array, hdr: Uint8Array): Uint8Array {
  const out = new Uint8Array(label.length + 1 + hdr.length);
  out.set(label);
  out.set(hdr, label.length + 1);
  return out;
}

/** Seals with the HPKE context; `aad` marks the final chunk of a chunked request. */
export async function seal(
  context: EncryptionContext,
  plaintext: Uint8Array,
  aad: Uint8Array = NO_AAD,
): Promise<Uint8Array> {
  try {
    return new Uint8Array(await context.seal(plaintext, aad));
  } catch (cause) {
    throw new OhttpError("ohttp.invalid_state", "The HPKE context refused to seal.", { cause });
  }
}

export async function exportSecret(
  context: EncryptionContext,
  exporterContext: Uint8Array,
  length: number,
): Promise<Uint8Array> {
  try {
    return new Uint8Array(await context.export(exporterContext, length));
  } catch (cause) {
    throw new OhttpError(
      "ohttp.invalid_argument",
      "The exporter context or length is out of range.",
      { cause },
    );
  }
}
