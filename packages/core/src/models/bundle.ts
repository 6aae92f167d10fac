import { fromUtf8 } from "../bytes.js";
import { ParseError } from "../errors.js";
import { decodeBase64 } from "./base64.js";

/**
 * A Sigstore bundle (https://github.com/sigstore/protobuf-specs, bundle.proto) as OpenSSF model
 * signing writes it: a DSSE envelope plus the material to verify it with. This module only
 * reads the shape; nothing here is trusted yet. Transparency-log entries and timestamps are kept
 * as parsed JSON for the keyless verifier, which checks them with the Sigstore libraries.
 */

export const BUNDLE_MEDIA_TYPE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json";

const MEDIA_TYPES: ReadonlySet<string> = new Set([
  "application/vnd.dev.sigstore.bundle+json;version=0.1",
  "application/vnd.dev.sigstore.bundle+json;version=0.2",
  "application/vnd.dev.sigstore.bundle+json;version=0.3",
  BUNDLE_MEDIA_TYPE_V03,
]);

/** Bundles beyond this are refused before parsing: a manifest of a million files is ~150 MB. */
const MAX_BUNDLE_BYTES = 256 * 1024 * 1024;

export interface DsseSignature {
  readonly sig: Uint8Array;
  /** Unused by model signing (written as "" or null); kept for display. */
  readonly keyid: string | undefined;
}

export interface DsseEnvelope {
  readonly payload: Uint8Array;
  readonly payloadType: string;
  /** Sigstore bundles carry exactly one signature. */
  readonly signature: DsseSignature;
}

/** The material the bundle offers for verification; which one decides the signing method. */
export type VerificationMaterial =
  /** Signed with a bare key. `hint` (v1.1+) is SHA-256 hex of the key's SPKI PEM text. */
  | { readonly kind: "publicKey"; readonly hint: string | undefined }
  /** Leaf first, then intermediates, each DER. */
  | { readonly kind: "x509CertificateChain"; readonly certificates: readonly Uint8Array[] }
  /** The single (Fulcio) leaf of a v0.3 keyless bundle, DER. */
  | { readonly kind: "certificate"; readonly certificate: Uint8Array };

export interface SigstoreBundle {
  readonly mediaType: string;
  readonly verificationMaterial: VerificationMaterial;
  readonly dsseEnvelope: DsseEnvelope;
  /** Raw JSON of `verificationMaterial.tlogEntries` (empty when absent). */
  readonly tlogEntries: readonly unknown[];
  /** Raw JSON of `verificationMaterial.timestampVerificationData`, when present. */
  readonly timestampVerificationData: unknown;
}

const MALFORMED = "model.bundle.malformed";

/** Reads a bundle from its JSON text or bytes. Throws ParseError (`model.bundle.*`) only. */
export function parseSigstoreBundle(input: string | Uint8Array): SigstoreBundle {
  const json = parseJson(input);
  const root = object(json, "bundle");
  const mediaType = root.mediaType;
  if (typeof mediaType !== "string" || !MEDIA_TYPES.has(mediaType)) {
    throw new ParseError(
      "model.bundle.media_type",
      "bundle.mediaType",
      `is ${describe(mediaType)}, not a Sigstore bundle media type (v0.1 to v0.3)`,
    );
  }
  if (root.dsseEnvelope === undefined) {
    throw new ParseError(
      "model.bundle.unsupported",
      "bundle.dsseEnvelope",
      "is absent: model signatures are DSSE envelopes, not bare message signatures",
    );
  }
  const material = object(root.verificationMaterial, "bundle.verificationMaterial");
  const tlogEntries = material.tlogEntries ?? [];
  if (!Array.isArray(tlogEntries)) {
    throw new ParseError(MALFORMED, "bundle.verificationMaterial.tlogEntries", "is not a list");
  }
  return {
    mediaType,
    verificationMaterial: verificationMaterial(material),
    dsseEnvelope: envelope(root.dsseEnvelope),
    tlogEntries,
    timestampVerificationData: material.timestampVerificationData,
  };
}

function parseJson(input: string | Uint8Array): unknown {
  if (input.length > MAX_BUNDLE_BYTES) {
    throw new ParseError(MALFORMED, "bundle", `is larger than ${MAX_BUNDLE_BYTES} bytes`);
  }
  let text: string;
  try {
    text = typeof input === "string" ? input : fromUtf8(input);
  } catch {
    throw new ParseError(MALFORMED, "bundle", "is not UTF-8 text");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ParseError(MALFORMED, "bundle", "is not JSON");
  }
}

function verificationMaterial(material: Record<string, unknown>): VerificationMaterial {
  const present = ["publicKey", "x509CertificateChain", "certificate"].filter(
    (key) => material[key] !== undefined && material[key] !== null,
  );
  if (present.length !== 1) {
    throw new ParseError(
      MALFORMED,
      "bundle.verificationMaterial",
      `must hold exactly one of publicKey, x509CertificateChain or certificate, not ${present.length}`,
    );
  }
  if (material.publicKey !== undefined && material.publicKey !== null) {
    const key = object(material.publicKey, "bundle.verificationMaterial.publicKey");
    const hint = key.hint;
    if (hint !== undefined && hint !== null && typeof hint !== "string") {
      throw new ParseError(MALFORMED, "bundle.verificationMaterial.publicKey.hint", "is not text");
    }
    // An empty hint is what protobuf writes for "no hint": model_signing treats it as absent.
    return { kind: "publicKey", hint: typeof hint === "string" && hint !== "" ? hint : undefined };
  }
  if (material.certificate !== undefined && material.certificate !== null) {
    return {
      kind: "certificate",
      certificate: rawBytes(material.certificate, "bundle.verificationMaterial.certificate"),
    };
  }
  const chain = object(
    material.x509CertificateChain,
    "bundle.verificationMaterial.x509CertificateChain",
  );
  const field = "bundle.verificationMaterial.x509CertificateChain.certificates";
  if (!Array.isArray(chain.certificates) || chain.certificates.length === 0) {
    throw new ParseError(MALFORMED, field, "is not a non-empty list");
  }
  return {
    kind: "x509CertificateChain",
    certificates: chain.certificates.map((c, i) => rawBytes(c, `${field}[${i}]`)),
  };
}

function envelope(value: unknown): DsseEnvelope {
  const env = object(value, "bundle.dsseEnvelope");
  const payloadType = env.payloadType;
  if (typeof payloadType !== "string") {
    throw new ParseError(MALFORMED, "bundle.dsseEnvelope.payloadType", "is not text");
  }
  const signatures = env.signatures;
  if (!Array.isArray(signatures) || signatures.length !== 1) {
    throw new ParseError(
      MALFORMED,
      "bundle.dsseEnvelope.signatures",
      "must be a list of exactly one signature, as the Sigstore bundle format requires",
    );
  }
  const signature = object(signatures[0], "bundle.dsseEnvelope.signatures[0]");
  const keyid = signature.keyid;
  if (keyid !== undefined && keyid !== null && typeof keyid !== "string") {
    throw new ParseError(MALFORMED, "bundle.dsseEnvelope.signatures[0].keyid", "is not text");
  }
  return {
    payload: base64Field(env.payload, "bundle.dsseEnvelope.payload"),
    payloadType,
    signature: {
      sig: base64Field(signature.sig, "bundle.dsseEnvelope.signatures[0].sig"),
      keyid: typeof keyid === "string" ? keyid : undefined,
    },
  };
}

function rawBytes(value: unknown, field: string): Uint8Array {
  const bytes = base64Field(object(value, field).rawBytes, `${field}.rawBytes`);
  if (bytes.length === 0) throw new ParseError(MALFORMED, `${field}.rawBytes`, "is empty");
  return bytes;
}

function base64Field(value: unknown, field: string): Uint8Array {
  const bytes = typeof value === "string" ? decodeBase64(value) : undefined;
  if (bytes === undefined) throw new ParseError(MALFORMED, field, "is not canonical base64 text");
  return bytes;
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ParseError(MALFORMED, field, "is not a JSON object");
  }
  return value as Record<string, unknown>;
}

/** A value for an error message: short, and never the content of a large field. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, 80));
  if (value === undefined) return "absent";
  return value === null ? "null" : `a JSON ${Array.isArray(value) ? "array" : typeof value}`;
}
