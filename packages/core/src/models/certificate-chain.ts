import { AsnConvert } from "@peculiar/asn1-schema";
import {
  BasicConstraints,
  ExtendedKeyUsage,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_kp_codeSigning,
  KeyUsage,
  KeyUsageFlags,
} from "@peculiar/asn1-x509";
import { fail, pass, short, warn } from "../attest/checks.js";
import { fingerprint, parseCertificates, parseDer } from "../attest/pki/certificates.js";
import type { X509Certificate } from "../attest/pki/x509.js";
import type { Check } from "../attest/types.js";
import { equalBytes } from "../bytes.js";
import { CloisterError, ParseError } from "../errors.js";
import { type EcPublicKey, importEcSpki } from "./keys.js";

/**
 * The certificate method: the bundle carries [signing certificate, intermediates...] and the
 * verifier names the certificates it trusts. Any trusted certificate ends a path, a root or an
 * intermediate, so a deployment can pin its own issuing CA.
 *
 * Time: model_signing evaluates the chain at the signing certificate's notBefore (it sets the
 * OpenSSL store time to it), because a plain key signature carries no trusted signing time. A
 * certificate that expired since is therefore still accepted; Cloister does the same so that
 * it accepts exactly the signatures model_signing accepts, and reports expiry at `now` as a
 * warning.
 */

const MAX_DEPTH = 8;
const ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0";

export interface VerifiedChain {
  readonly leaf: X509Certificate;
  readonly leafKey: EcPublicKey;
  /** The trusted certificate the path ends in. */
  readonly anchor: X509Certificate;
}

/** Parses the trust anchors (PEM texts, each with any number of certificates). */
export function parseTrustAnchors(pems: readonly string[]): X509Certificate[] {
  const anchors = pems.flatMap((pem, i) => parseCertificates(pem, `trust anchor ${i + 1}`));
  if (anchors.length === 0) {
    throw new CloisterError(
      "model.trust.empty",
      "No trusted certificate was given to verify with.",
    );
  }
  return anchors;
}

/** Reads the bundle's certificates, leaf first. A malformed one makes the bundle malformed. */
export function parseBundleCertificates(ders: readonly Uint8Array[]): X509Certificate[] {
  return ders.map((der, i) => {
    const field = `bundle.verificationMaterial certificate ${i + 1}`;
    try {
      return parseDer(der, field);
    } catch (error) {
      const message = error instanceof Error ? error.message : "is not a certificate";
      throw new ParseError("model.bundle.malformed", field, message.replace(`${field}: `, ""));
    }
  });
}

/**
 * Checks the chain, its validity at the leaf's notBefore and the leaf's key usage. Returns the
 * checks, and the leaf's key when every one passed.
 */
export async function verifyCertificateChain(
  bundleCertificates: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
  now: Date,
): Promise<{ readonly checks: Check[]; readonly chain?: VerifiedChain }> {
  const [leaf, ...rest] = bundleCertificates;
  if (leaf === undefined) {
    return { checks: [fail("model.certificate.chain", "The bundle carries no certificate.")] };
  }
  const path = await buildPath(leaf, rest, anchors, 0);
  if (path === undefined) {
    return {
      checks: [
        fail(
          "model.certificate.chain",
          `The signing certificate ${subjectOf(leaf)} does not chain to any trusted certificate through the bundle's certificates.`,
        ),
      ],
    };
  }
  const anchor = path.at(-1) ?? leaf;
  const checks: Check[] = [
    pass(
      "model.certificate.chain",
      `The signing certificate ${subjectOf(leaf)} chains to the trusted ${subjectOf(anchor)} (sha256 ${short(fingerprint(anchor))}).`,
    ),
  ];
  const at = leaf.notBefore;
  const outside = [leaf, ...path].filter((c) => c.notBefore > at || c.notAfter < at);
  checks.push(
    outside.length === 0
      ? pass(
          "model.certificate.validity",
          `Every certificate of the chain was valid when the signing certificate was issued (${at.toISOString()}).`,
        )
      : fail(
          "model.certificate.validity",
          `${subjectOf(outside[0] as X509Certificate)} was not valid when the signing certificate was issued (${at.toISOString()}).`,
        ),
  );
  if (leaf.notAfter < now) {
    checks.push(
      warn(
        "model.certificate.expired",
        `The signing certificate expired on ${leaf.notAfter.toISOString()}; like model_signing, Cloister judges the chain at its issue time.`,
      ),
    );
  }
  checks.push(signingUsage(leaf));
  let leafKey: EcPublicKey;
  try {
    leafKey = await importEcSpki(
      new Uint8Array(leaf.publicKey.rawData),
      "the signing certificate's key",
    );
  } catch (error) {
    const code = error instanceof CloisterError ? error.code : "model.key.unsupported";
    checks.push(
      fail(code, "The signing certificate's key is not an ECDSA P-256, P-384 or P-521 key."),
    );
    return { checks };
  }
  return checks.some((c) => c.status === "fail")
    ? { checks }
    : { checks, chain: { leaf, leafKey, anchor } };
}

/**
 * The issuers from `certificate` up to a trusted certificate, or undefined. Candidates are
 * found by issuer name and confirmed by signature, never trusted by name alone: the model
 * signing test PKI gives its leaf and intermediate the same subject.
 */
async function buildPath(
  certificate: X509Certificate,
  pool: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
  depth: number,
): Promise<X509Certificate[] | undefined> {
  const der = new Uint8Array(certificate.rawData);
  const pinned = anchors.find((a) => equalBytes(new Uint8Array(a.rawData), der));
  if (pinned !== undefined) return depth === 0 ? [pinned] : [];
  for (const anchor of anchors) {
    if (await issues(anchor, certificate)) return [anchor];
  }
  if (depth >= MAX_DEPTH) return undefined;
  for (const [i, candidate] of pool.entries()) {
    if (!(await issues(candidate, certificate))) continue;
    const remaining = pool.filter((_, j) => j !== i);
    const above = await buildPath(candidate, remaining, anchors, depth + 1);
    if (above !== undefined) return [candidate, ...above];
  }
  return undefined;
}

/** Whether `issuer` is a CA that signed `certificate`. */
async function issues(issuer: X509Certificate, certificate: X509Certificate): Promise<boolean> {
  if (issuer.subject !== certificate.issuer || !isCa(issuer)) return false;
  try {
    return await certificate.verify({ publicKey: issuer, signatureOnly: true });
  } catch {
    return false;
  }
}

function isCa(certificate: X509Certificate): boolean {
  const constraints = extension(certificate, id_ce_basicConstraints, BasicConstraints);
  if (!constraints?.cA) return false;
  const usage = extension(certificate, id_ce_keyUsage, KeyUsage);
  return (
    usage === undefined || (usage !== null && (usage.toNumber() & KeyUsageFlags.keyCertSign) !== 0)
  );
}

/**
 * model_signing accepts a signing certificate whose KeyUsage has digitalSignature or whose
 * extended key usage has codeSigning. Cloister also refuses a certificate whose extensions
 * exclude signing code (KeyUsage without digitalSignature, or an EKU list without codeSigning),
 * which RFC 5280 forbids using for it.
 */
function signingUsage(leaf: X509Certificate): Check {
  const usage = extension(leaf, id_ce_keyUsage, KeyUsage);
  const eku = extension(leaf, id_ce_extKeyUsage, ExtendedKeyUsage);
  const digitalSignature =
    usage !== undefined &&
    usage !== null &&
    (usage.toNumber() & KeyUsageFlags.digitalSignature) !== 0;
  const codeSigning = eku?.some(
    (oid) => oid === id_kp_codeSigning || oid === ANY_EXTENDED_KEY_USAGE,
  );
  const excluded =
    (usage !== undefined && !digitalSignature) || (eku !== undefined && !codeSigning);
  return (digitalSignature || codeSigning) && !excluded
    ? pass(
        "model.certificate.usage",
        "The signing certificate may sign code (digitalSignature, codeSigning).",
      )
    : fail(
        "model.certificate.usage",
        "The signing certificate may not sign: it needs KeyUsage digitalSignature or extended key usage codeSigning, and neither may exclude it.",
      );
}

/** The parsed extension; undefined when absent, null when present but unreadable. */
function extension<T>(
  certificate: X509Certificate,
  oid: string,
  type: new () => T,
): T | undefined | null {
  const found = certificate.extensions.find((e) => e.type === oid);
  if (found === undefined) return undefined;
  try {
    return AsnConvert.parse(found.value, type);
  } catch {
    return null;
  }
}

function subjectOf(certificate: X509Certificate): string {
  return JSON.stringify(certificate.subject.slice(0, 120));
}
