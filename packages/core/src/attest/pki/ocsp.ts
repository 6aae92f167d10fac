/**
 * The one door to pkijs, for OCSP responses (RFC 6960) that a caller brings: nothing here
 * contacts a responder. pkijs is handed its WebCrypto engine explicitly on every call, so the
 * verification never depends on whatever global engine some other code installed.
 */
import * as asn1js from "asn1js";
import {
  BasicOCSPResponse,
  CertID,
  Certificate,
  CryptoEngine,
  ExtKeyUsage,
  id_PKIX_OCSP_Basic,
  OCSPResponse,
  type SingleResponse,
} from "pkijs";
import { asBufferSource, toHex } from "../../bytes.js";
import { CloisterError, ParseError } from "../../errors.js";
import { checkDerLength } from "./certificates.js";
import type { X509Certificate } from "./x509.js";

const engine = new CryptoEngine({ name: "webcrypto", crypto: globalThis.crypto });

const MALFORMED = "ocsp.malformed";
const SOURCE = "the OCSP response";
const ID_KP_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9";
const EXTENDED_KEY_USAGE = "2.5.29.37";

/** CertID hash algorithms by OID. NVIDIA's verifier asks with SHA-384; SHA-1 is RFC 5019's. */
const CERT_ID_HASHES: Readonly<Record<string, string>> = {
  "1.3.14.3.2.26": "SHA-1",
  "2.16.840.1.101.3.4.2.1": "SHA-256",
  "2.16.840.1.101.3.4.2.2": "SHA-384",
  "2.16.840.1.101.3.4.2.3": "SHA-512",
};

/** OCSPResponseStatus (RFC 6960 section 4.2.1); 4 is unused. */
const RESPONSE_STATUSES = [
  "successful",
  "malformedRequest",
  "internalError",
  "tryLater",
  undefined,
  "sigRequired",
  "unauthorized",
] as const;

/** CRLReason (RFC 5280 section 5.3.1); 7 is unused. */
const REASONS = [
  "unspecified",
  "keyCompromise",
  "cACompromise",
  "affiliationChanged",
  "superseded",
  "cessationOfOperation",
  "certificateHold",
  undefined,
  "removeFromCRL",
  "privilegeWithdrawn",
  "aACompromise",
] as const;

export type OcspRevocationReason = Exclude<(typeof REASONS)[number], undefined>;

/** What an authentic, current response says about one certificate. */
export type OcspStatus =
  | {
      readonly status: "good" | "unknown";
      readonly thisUpdate: Date;
      readonly nextUpdate?: Date;
    }
  | {
      readonly status: "revoked";
      readonly thisUpdate: Date;
      readonly nextUpdate?: Date;
      readonly revokedAt: Date;
      readonly reason?: OcspRevocationReason;
    };

export interface OcspOptions {
  /** The certificate whose status is asked. */
  readonly certificate: X509Certificate;
  /** The CA that issued it: the responder must be that CA or a responder it delegated to. */
  readonly issuer: X509Certificate;
  /** The verification time: the response must be current then. */
  readonly now: Date;
}

/**
 * The status a DER OCSPResponse gives `certificate`, once the response is shown to be
 * successful, basic, about this certificate (its CertID: SHA-1, -256, -384 or -512 of the
 * issuer's name and key, and the serial), signed by the issuer or by a certificate the issuer
 * signed for OCSP (extended key usage id-kp-OCSPSigning, valid at `now`), and current at `now`
 * (thisUpdate not after it, nextUpdate, when present, not before it). Anything else throws a
 * CloisterError with an `ocsp.*` code; `ocsp.cert_id` alone means the response is about other
 * certificates.
 */
export async function verifyOcspResponse(
  response: Uint8Array,
  options: OcspOptions,
): Promise<OcspStatus> {
  if (Number.isNaN(options.now.getTime())) {
    throw new CloisterError("verify.now", "The verification time is not a valid date.");
  }
  const basic = basicResponse(response);
  const issuer = pkijsCertificate(options.issuer, "the issuer certificate");
  const certificate = pkijsCertificate(options.certificate, "the certificate");
  const single = await singleResponseFor(basic, certificate, issuer);
  await checkResponder(basic, issuer, options.now);
  const status = statusOf(single);
  const thisUpdate = single.thisUpdate;
  const nextUpdate = single.nextUpdate;
  if (Number.isNaN(thisUpdate.getTime()) || (nextUpdate && Number.isNaN(nextUpdate.getTime()))) {
    throw new ParseError(MALFORMED, SOURCE, "has an invalid thisUpdate or nextUpdate time");
  }
  const time = options.now.getTime();
  if (thisUpdate.getTime() > time) {
    throw new CloisterError(
      "ocsp.not_yet_valid",
      `The OCSP response's thisUpdate ${thisUpdate.toISOString()} is after ${options.now.toISOString()}.`,
    );
  }
  if (nextUpdate !== undefined && nextUpdate.getTime() < time) {
    throw new CloisterError(
      "ocsp.stale",
      `The OCSP response is stale: its nextUpdate ${nextUpdate.toISOString()} is before ${options.now.toISOString()}.`,
    );
  }
  const times = { thisUpdate, ...(nextUpdate === undefined ? {} : { nextUpdate }) };
  return status.status === "revoked"
    ? { ...status, ...times }
    : { status: status.status, ...times };
}

function basicResponse(der: Uint8Array): BasicOCSPResponse {
  checkDerLength(der, SOURCE, MALFORMED);
  let outer: OCSPResponse;
  try {
    outer = OCSPResponse.fromBER(asBufferSource(der));
  } catch {
    throw new ParseError(MALFORMED, SOURCE, "is not a well-formed OCSPResponse");
  }
  const code = outer.responseStatus.valueBlock.valueDec;
  if (code !== 0) {
    const name = RESPONSE_STATUSES[code] ?? `status ${code}`;
    throw new CloisterError(
      "ocsp.response_status",
      `The OCSP responder answered "${name}", not "successful": the response carries no status.`,
    );
  }
  const bytes = outer.responseBytes;
  if (bytes === undefined) {
    throw new ParseError(MALFORMED, SOURCE, "is successful but carries no response bytes");
  }
  if (bytes.responseType !== id_PKIX_OCSP_Basic) {
    throw new CloisterError(
      "ocsp.response_type",
      `The OCSP response is of type ${bytes.responseType.slice(0, 64)}, not a BasicOCSPResponse.`,
    );
  }
  const inner = bytes.response.valueBlock.valueHexView;
  checkDerLength(inner, `${SOURCE}'s BasicOCSPResponse`, MALFORMED);
  try {
    return BasicOCSPResponse.fromBER(asBufferSource(inner));
  } catch {
    throw new ParseError(MALFORMED, SOURCE, "does not hold a well-formed BasicOCSPResponse");
  }
}

function pkijsCertificate(certificate: X509Certificate, what: string): Certificate {
  try {
    return Certificate.fromBER(certificate.rawData);
  } catch {
    throw new ParseError("certificate.malformed", what, "is not a well-formed X.509 certificate");
  }
}

/** The first SingleResponse whose CertID names the certificate, by whichever hash it uses. */
async function singleResponseFor(
  basic: BasicOCSPResponse,
  certificate: Certificate,
  issuer: Certificate,
): Promise<SingleResponse> {
  const ids = new Map<string, CertID>();
  for (const single of basic.tbsResponseData.responses) {
    const hash = CERT_ID_HASHES[single.certID.hashAlgorithm.algorithmId];
    if (hash === undefined) continue;
    let id = ids.get(hash);
    if (id === undefined) {
      id = new CertID();
      await id.createForCertificate(
        certificate,
        { hashAlgorithm: hash, issuerCertificate: issuer },
        engine,
      );
      ids.set(hash, id);
    }
    if (single.certID.isEqual(id)) return single;
  }
  throw new CloisterError(
    "ocsp.cert_id",
    `The OCSP response has no status for certificate serial ${serialOf(certificate)} of this issuer.`,
  );
}

/**
 * RFC 6960 section 4.2.2.2: the issuer signs, or a responder certificate that the issuer
 * signed, that carries id-kp-OCSPSigning and that is valid at `now`. The ResponderID is not
 * consulted: the signature decides who signed, whatever the response claims.
 */
async function checkResponder(
  basic: BasicOCSPResponse,
  issuer: Certificate,
  now: Date,
): Promise<void> {
  if (await signs(basic, issuer)) return;
  let unauthorized: string | undefined;
  for (const candidate of basic.certs ?? []) {
    if (!(await issuedBy(candidate, issuer)) || !(await signs(basic, candidate))) continue;
    const problem = delegationProblem(candidate, now);
    if (problem === undefined) return;
    unauthorized = problem;
  }
  if (unauthorized !== undefined) {
    throw new CloisterError("ocsp.responder_unauthorized", unauthorized);
  }
  throw new CloisterError(
    "ocsp.signature",
    "The OCSP response is signed neither by the certificate's issuer nor by a responder certificate the issuer signed.",
  );
}

async function signs(basic: BasicOCSPResponse, signer: Certificate): Promise<boolean> {
  try {
    return await engine.verifyWithPublicKey(
      asBufferSource(basic.tbsResponseData.tbsView),
      basic.signature,
      signer.subjectPublicKeyInfo,
      basic.signatureAlgorithm,
    );
  } catch {
    return false;
  }
}

async function issuedBy(certificate: Certificate, issuer: Certificate): Promise<boolean> {
  try {
    return await certificate.verify(issuer, engine);
  } catch {
    return false;
  }
}

function delegationProblem(responder: Certificate, now: Date): string | undefined {
  const usage = responder.extensions?.find((e) => e.extnID === EXTENDED_KEY_USAGE)?.parsedValue;
  if (!(usage instanceof ExtKeyUsage) || !usage.keyPurposes.includes(ID_KP_OCSP_SIGNING)) {
    return "The OCSP response is signed by a certificate the issuer signed, but without the OCSP-signing extended key usage (id-kp-OCSPSigning): the issuer did not delegate OCSP to it.";
  }
  const notBefore = responder.notBefore.value.getTime();
  const notAfter = responder.notAfter.value.getTime();
  const time = now.getTime();
  if (!(notBefore <= time && time <= notAfter)) {
    return `The OCSP responder certificate is not valid at ${now.toISOString()}.`;
  }
  return undefined;
}

type CertStatus =
  | { readonly status: "good" | "unknown" }
  | {
      readonly status: "revoked";
      readonly revokedAt: Date;
      readonly reason?: OcspRevocationReason;
    };

/** CertStatus: good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2]. */
function statusOf(single: SingleResponse): CertStatus {
  const value: unknown = single.certStatus;
  if (!(value instanceof asn1js.BaseBlock) || value.idBlock.tagClass !== 3) {
    throw new ParseError(MALFORMED, SOURCE, "has a certificate status that is not a CertStatus");
  }
  const tag = value.idBlock.tagNumber;
  if (tag === 0) return { status: "good" };
  if (tag === 2) return { status: "unknown" };
  if (tag === 1 && value instanceof asn1js.Constructed) return revokedInfo(value);
  throw new ParseError(MALFORMED, SOURCE, "has a certificate status that is not a CertStatus");
}

/** RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL } */
function revokedInfo(value: asn1js.Constructed): Extract<CertStatus, { status: "revoked" }> {
  const [time, reason, ...rest] = value.valueBlock.value;
  const revokedAt = time instanceof asn1js.GeneralizedTime ? time.toDate() : undefined;
  if (revokedAt === undefined || Number.isNaN(revokedAt.getTime()) || rest.length > 0) {
    throw new ParseError(MALFORMED, SOURCE, "has a revoked status without a valid revocation time");
  }
  if (reason === undefined) return { status: "revoked", revokedAt };
  const code =
    reason instanceof asn1js.Constructed &&
    reason.idBlock.tagClass === 3 &&
    reason.idBlock.tagNumber === 0 &&
    reason.valueBlock.value.length === 1 &&
    reason.valueBlock.value[0] instanceof asn1js.Enumerated
      ? reason.valueBlock.value[0].valueBlock.valueDec
      : -1;
  const name = REASONS[code];
  if (name === undefined) {
    throw new ParseError(MALFORMED, SOURCE, "has a revocation reason that is not a CRLReason");
  }
  return { status: "revoked", revokedAt, reason: name };
}

function serialOf(certificate: Certificate): string {
  return toHex(certificate.serialNumber.valueBlock.valueHexView).slice(0, 40);
}
