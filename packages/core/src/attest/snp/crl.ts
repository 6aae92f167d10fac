import { fail, pass, skip, warn } from "../checks.js";
import { signedBy } from "../pki/certificates.js";
import { parseCrlInput } from "../pki/crl.js";
import type { X509Certificate, X509Crl } from "../pki/x509.js";
import type { Check } from "../types.js";
import type { SnpProduct } from "./abi/types.js";
import { amdRoots, pinnedKey } from "./roots.js";
import type { SigningKind } from "./vcek.js";

/**
 * Revocation of the AMD intermediates. AMD publishes one CRL per product
 * (https://kdsintf.amd.com/vcek/v1/{product}/crl, and /vlek/v1/{product}/crl), signed by the
 * product's ARK. A CRL lists certificates its issuer issued, so an ARK-signed CRL decides on the
 * ASK and ASVK. It cannot decide on a VCEK or VLEK: those are issued by the ASK/ASVK, and AMD
 * gives every one of them serial number 0, so no serial in the CRL could name a single one.
 * Revocation is reported as a check rather than thrown, because without a CRL it is merely
 * unknown.
 */

const MALFORMED = "snp.crl.malformed";

/** A DER CRL, or PEM text with one CRL block (or the hex of the DER). */
export function parseCrl(input: Uint8Array | string): X509Crl {
  return parseCrlInput(input, "crl", MALFORMED);
}

/**
 * Whether the intermediate that signed a `kind` signing key of `product` (the pinned ASK or ASVK)
 * is revoked, by the CRL, which must be signed by the pinned ARK of that product and current at
 * `now`. Without a CRL the answer is "unknown", a skip.
 */
export async function checkRevocation(
  crl: X509Crl | undefined,
  product: SnpProduct,
  kind: SigningKind,
  now: Date,
): Promise<Check> {
  const intermediateRole = kind === "vcek" ? "ask" : "asvk";
  const intermediateName = intermediateRole.toUpperCase();
  if (crl === undefined) {
    return skip(
      "snp.revocation",
      `Revocation is unknown: no AMD CRL for ${product} was supplied, so whether AMD revoked the ${intermediateName} was not checked.`,
    );
  }
  const roots = amdRoots(product);
  return checkRevocationWith(
    crl,
    {
      certificate: roots.ark,
      key: await pinnedKey(product, "ark"),
      name: `the pinned AMD ARK-${product}`,
    },
    { certificate: roots[intermediateRole], name: `${intermediateName}-${product}` },
    now,
  );
}

export interface CrlIssuer {
  readonly certificate: X509Certificate;
  /**
   * The issuer's public key, imported for one signature scheme (the pinned ARK's for RSASSA-PSS
   * with SHA-384): a CRL signed with any other scheme does not verify.
   */
  readonly key: CryptoKey;
  /** For messages, e.g. "the pinned AMD ARK-Milan". */
  readonly name: string;
}

export interface CrlSubject {
  /** The certificate the CRL decides on: one the CRL's issuer issued. */
  readonly certificate: X509Certificate;
  /** For messages, e.g. "ASK-Milan". */
  readonly name: string;
}

/** The CRL logic with the issuer as a parameter, so that it can be exercised with a test CA. */
export async function checkRevocationWith(
  crl: X509Crl,
  issuer: CrlIssuer,
  subject: CrlSubject,
  now: Date,
): Promise<Check> {
  if (crl.issuer !== issuer.certificate.subject) {
    return fail(
      "snp.crl.issuer",
      `The CRL is issued by ${JSON.stringify(crl.issuer.slice(0, 120))}, not by ${issuer.name}.`,
    );
  }
  if (!(await signedBy(crl, issuer.key))) {
    return fail(
      "snp.crl.signature",
      `The CRL's signature does not verify with ${issuer.name}: it was altered or not issued by AMD.`,
    );
  }
  const serial = normalSerial(subject.certificate.serialNumber);
  const entry = crl.entries.find((e) => normalSerial(e.serialNumber) === serial);
  if (entry !== undefined) {
    return fail(
      "snp.revoked",
      `The CRL lists the ${subject.name} (serial ${serial}) as revoked on ${entry.revocationDate.toISOString()}: nothing it signed can be trusted.`,
    );
  }
  const issued = crl.thisUpdate;
  const next = crl.nextUpdate;
  if (now.getTime() < issued.getTime()) {
    return fail(
      "snp.crl.stale",
      `The CRL was issued at ${issued.toISOString()}, after the verification time ${now.toISOString()}.`,
    );
  }
  if (next === undefined) {
    return warn(
      "snp.crl.stale",
      `The CRL (issued ${issued.toISOString()}) does not list the ${subject.name}, but it names no next update, so how current it is cannot be told.`,
    );
  }
  if (now.getTime() > next.getTime()) {
    return fail(
      "snp.crl.stale",
      `The CRL expired: its next update was due ${next.toISOString()}, before the verification time ${now.toISOString()}; fetch a current one.`,
    );
  }
  return pass(
    "snp.revocation",
    `The CRL signed by ${issuer.name} (current ${issued.toISOString()} to ${next.toISOString()}) does not list the ${subject.name}.`,
  );
}

/** Serials are compared as numbers: DER may carry a leading zero byte that the value lacks. */
function normalSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, "");
}
