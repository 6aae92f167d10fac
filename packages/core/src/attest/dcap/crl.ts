import { fail, pass, skip, warn } from "../checks.js";
import { signedBy } from "../pki/certificates.js";
import { parseCrlInput } from "../pki/crl.js";
import { type X509Certificate, X509Crl } from "../pki/x509.js";
import type { Check } from "../types.js";
import type { PckChain } from "./chain.js";
import { INTEL_ROOT_NAME, intelRoot, intelRootKey } from "./roots.js";

/**
 * Revocation in Intel DCAP. Intel publishes two kinds of CRL, both ECDSA P-256 signed: the Root
 * CA CRL, signed by the Intel SGX Root CA, lists revoked intermediates (the PCK Platform and
 * Processor CAs, the TCB Signing certificate); the PCK CRL, signed by the Platform or Processor
 * CA, lists revoked PCK certificates of that CA. A CRL decides only on certificates its own
 * issuer issued, so each is checked against its issuer's key before it is believed. Revocation
 * and staleness are reported as checks, not thrown, so that a verifier can report all of them;
 * without a CRL, revocation is unknown (a skip).
 */

const MALFORMED = "dcap.crl.malformed";

/** A CRL as DER, PEM or the hex text of its DER (as PCS collateral JSON holds it). */
export function parseCrl(input: Uint8Array | string, source = "CRL"): X509Crl {
  return parseCrlInput(input, source, MALFORMED);
}

export type CrlInput = X509Crl | Uint8Array | string;

export interface DcapCrls {
  /** The CRL of the CA that issued the PCK certificate (Platform or Processor CA). */
  readonly pckCrl?: CrlInput | undefined;
  /** The Intel SGX Root CA's CRL. */
  readonly rootCrl?: CrlInput | undefined;
}

/**
 * Whether the PCK chain (and the TCB signing certificate, when given) is revoked, by the CRLs,
 * each of which must come from the right issuer and be current at `now`. One or more checks per
 * CRL; a missing CRL is a skip. A CRL that is not a CRL at all throws a ParseError.
 */
export async function checkCrls(
  crls: DcapCrls,
  chain: PckChain,
  tcbSigner: X509Certificate | undefined,
  now: Date,
): Promise<Check[]> {
  const caName = chain.intermediate.subjectName.getField("CN").join(", ");
  const checks: Check[] = [];
  if (crls.rootCrl === undefined) {
    checks.push(
      skip(
        "dcap.crl.root",
        `Revocation is unknown: no Intel SGX Root CA CRL was supplied, so whether Intel revoked the ${caName}${tcbSigner === undefined ? "" : " or the TCB Signing certificate"} was not checked.`,
      ),
    );
  } else {
    const root = intelRoot();
    checks.push(
      ...(await checkCrlWith(
        asCrl(crls.rootCrl, "the Root CA CRL"),
        { code: "dcap.crl.root", name: "Root CA CRL" },
        { certificate: root, key: await intelRootKey(), name: `the pinned ${INTEL_ROOT_NAME}` },
        [
          { certificate: chain.intermediate, name: caName },
          ...(tcbSigner === undefined
            ? []
            : [{ certificate: tcbSigner, name: "Intel SGX TCB Signing certificate" }]),
        ],
        now,
      )),
    );
  }
  if (crls.pckCrl === undefined) {
    checks.push(
      skip(
        "dcap.crl.pck",
        `Revocation is unknown: no PCK CRL of the ${caName} was supplied, so whether Intel revoked the PCK certificate was not checked.`,
      ),
    );
  } else {
    checks.push(
      ...(await checkCrlWith(
        asCrl(crls.pckCrl, "the PCK CRL"),
        { code: "dcap.crl.pck", name: "PCK CRL" },
        { certificate: chain.intermediate, key: chain.intermediateKey, name: `the ${caName}` },
        [{ certificate: chain.leaf, name: "PCK certificate" }],
        now,
      )),
    );
  }
  return checks;
}

/**
 * Parsing a CRL (and listing its entries) costs milliseconds: a relying party checks the same
 * day's CRLs against many quotes, so parsed CRLs, their revoked serials and their signature
 * verdicts are kept per input object (the verifier keeps collateral bundles, so the same bytes
 * arrive as the same object).
 */
const parsedCrls = new WeakMap<object, X509Crl>();
const revokedSerials = new WeakMap<X509Crl, ReadonlyMap<string, Date>>();
const signatureVerdicts = new WeakMap<X509Crl, WeakMap<CryptoKey, Promise<boolean>>>();

function asCrl(input: CrlInput, source: string): X509Crl {
  if (input instanceof X509Crl) return input;
  if (typeof input === "string") return parseCrl(input, source);
  let crl = parsedCrls.get(input);
  if (crl === undefined) {
    crl = parseCrl(input, source);
    parsedCrls.set(input, crl);
  }
  return crl;
}

function revoked(crl: X509Crl): ReadonlyMap<string, Date> {
  let serials = revokedSerials.get(crl);
  if (serials === undefined) {
    serials = new Map(crl.entries.map((e) => [normalSerial(e.serialNumber), e.revocationDate]));
    revokedSerials.set(crl, serials);
  }
  return serials;
}

function verdict(crl: X509Crl, key: CryptoKey): Promise<boolean> {
  let byKey = signatureVerdicts.get(crl);
  if (byKey === undefined) {
    byKey = new WeakMap();
    signatureVerdicts.set(crl, byKey);
  }
  let signed = byKey.get(key);
  if (signed === undefined) {
    signed = signedBy(crl, key);
    byKey.set(key, signed);
  }
  return signed;
}

/** Which CRL this is: the code of its pass check, and its name for messages. */
export interface CrlLabel {
  readonly code: string;
  /** E.g. "PCK CRL". */
  readonly name: string;
}

export interface CrlIssuer {
  readonly certificate: X509Certificate;
  /** The issuer's public key, imported for ECDSA P-256: a CRL signed any other way fails. */
  readonly key: CryptoKey;
  /** For messages, e.g. "the pinned Intel SGX Root CA". */
  readonly name: string;
}

export interface CrlSubject {
  /** A certificate the CRL's issuer issued. */
  readonly certificate: X509Certificate;
  /** For messages, e.g. "PCK certificate". */
  readonly name: string;
}

/**
 * The CRL logic with the issuer as a parameter, so that it can be exercised with a test CA.
 * A CRL from another issuer, or one whose signature fails, decides nothing: that is its only
 * check. Otherwise each listed subject and a stale CRL each give a fail; none gives one pass.
 */
export async function checkCrlWith(
  crl: X509Crl,
  label: CrlLabel,
  issuer: CrlIssuer,
  subjects: readonly CrlSubject[],
  now: Date,
): Promise<Check[]> {
  if (crl.issuer !== issuer.certificate.subject) {
    return [
      fail(
        "dcap.crl.issuer",
        `The ${label.name} is issued by ${JSON.stringify(crl.issuer.slice(0, 120))}, not by ${issuer.name}.`,
      ),
    ];
  }
  if (!(await verdict(crl, issuer.key))) {
    return [
      fail(
        "dcap.crl.signature",
        `The ${label.name}'s signature does not verify with ${issuer.name}'s key: it was altered or not issued by Intel.`,
      ),
    ];
  }
  const checks: Check[] = [];
  for (const subject of subjects) {
    const serial = normalSerial(subject.certificate.serialNumber);
    const revocationDate = revoked(crl).get(serial);
    if (revocationDate !== undefined) {
      checks.push(
        fail(
          "dcap.revoked",
          `The ${label.name} lists the ${subject.name} (serial ${serial}) as revoked on ${revocationDate.toISOString()}: nothing it signed can be trusted.`,
        ),
      );
    }
  }
  const issued = crl.thisUpdate;
  const next = crl.nextUpdate;
  const period = `${issued.toISOString()} to ${next?.toISOString() ?? "an unstated next update"}`;
  if (now.getTime() < issued.getTime()) {
    checks.push(
      fail(
        "dcap.crl.expired",
        `The ${label.name} is not yet current at ${now.toISOString()}: it is current from ${period}.`,
      ),
    );
  } else if (next === undefined) {
    checks.push(
      warn(
        label.code,
        `The ${label.name} (issued ${issued.toISOString()}) names no next update, so how current it is cannot be told.`,
      ),
    );
  } else if (now.getTime() > next.getTime()) {
    checks.push(
      fail(
        "dcap.crl.expired",
        `The ${label.name} expired: its next update was due ${next.toISOString()}, before the verification time ${now.toISOString()}; fetch a current one.`,
      ),
    );
  }
  if (checks.length === 0) {
    checks.push(
      pass(
        label.code,
        `The ${label.name} signed by ${issuer.name} (current ${period}) does not list the ${subjects.map((s) => s.name).join(" or the ")}.`,
      ),
    );
  }
  return checks;
}

/** Serials are compared as numbers: DER may carry a leading zero byte that the value lacks. */
function normalSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, "");
}
