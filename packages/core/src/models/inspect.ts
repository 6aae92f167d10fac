import { fingerprint } from "../attest/pki/certificates.js";
import { CloisterError } from "../errors.js";
import { parseSigstoreBundle } from "./bundle.js";
import { parseBundleCertificates } from "./certificate-chain.js";
import { IN_TOTO_PAYLOAD_TYPE } from "./dsse.js";
import { type ModelResource, type ModelSerialization, parseModelStatement } from "./statement.js";
import type { ModelSigningMethod } from "./types.js";

export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SHA-256 of the DER, hex. */
  readonly fingerprint: string;
  /** Subject alternative names (e-mail, URI), for keyless certificates. */
  readonly subjectAltNames: readonly string[];
}

/** What a bundle says, read but not verified: nothing here is trustworthy until verified. */
export interface ModelSignatureSummary {
  readonly mediaType: string;
  /** Inferred from the verification material: which trust `verify` would need. */
  readonly method: ModelSigningMethod;
  /** `publicKey.hint` for key bundles (model_signing 1.1+). */
  readonly keyHint?: string;
  /** The bundle's certificates, leaf first. */
  readonly certificates: readonly CertificateSummary[];
  readonly payloadType: string;
  readonly subjectName: string;
  /** "sha256:<hex>" as the statement declares it (not recomputed). */
  readonly digest: string;
  readonly resources: readonly ModelResource[];
  readonly serialization: ModelSerialization;
  readonly ignorePaths: readonly string[];
  readonly tlogEntries: number;
}

/**
 * Summarises a model signature bundle without verifying it. Throws ParseError when the bundle
 * or its statement cannot be read.
 */
export function inspectModelSignature(bundleInput: string | Uint8Array): ModelSignatureSummary {
  const bundle = parseSigstoreBundle(bundleInput);
  const material = bundle.verificationMaterial;
  const ders =
    material.kind === "publicKey"
      ? []
      : material.kind === "certificate"
        ? [material.certificate]
        : material.certificates;
  const certificates = parseBundleCertificates(ders).map((c) => ({
    subject: c.subject,
    issuer: c.issuer,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    fingerprint: fingerprint(c),
    subjectAltNames: subjectAltNames(c),
  }));
  if (bundle.dsseEnvelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new CloisterError("model.payload.type", "The DSSE payload is not an in-toto statement.");
  }
  const statement = parseModelStatement(bundle.dsseEnvelope.payload);
  // Keyless bundles prove their signing time in a log; bundles signed with a certificate do not.
  const method: ModelSigningMethod =
    material.kind === "publicKey"
      ? "key"
      : material.kind === "certificate" || bundle.tlogEntries.length > 0
        ? "sigstore"
        : "certificate";
  return {
    mediaType: bundle.mediaType,
    method,
    ...(material.kind === "publicKey" && material.hint !== undefined
      ? { keyHint: material.hint }
      : {}),
    certificates,
    payloadType: bundle.dsseEnvelope.payloadType,
    subjectName: statement.subjectName,
    digest: `sha256:${statement.subjectDigest}`,
    resources: statement.resources,
    serialization: statement.serialization,
    ignorePaths: statement.serialization.ignorePaths,
    tlogEntries: bundle.tlogEntries.length,
  };
}

function subjectAltNames(
  certificate: ReturnType<typeof parseBundleCertificates>[number],
): string[] {
  try {
    const found = certificate.extensions.find((e) => e.type === "2.5.29.17") as
      | { names?: { items?: { value: string }[] } }
      | undefined;
    return found?.names?.items?.map((n) => n.value) ?? [];
  } catch {
    return [];
  }
}
