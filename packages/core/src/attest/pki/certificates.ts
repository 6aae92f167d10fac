import { sha256 } from "@hpke/common";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import { fromBase64Url, fromUtf8, toHex } from "../../bytes.js";
import { ParseError } from "../../errors.js";
import { isCanonicalCertificate } from "./canonical-der.js";
import { X509Certificate, type X509Crl } from "./x509.js";

/**
 * Certificates arrive as the AMD key service serves them (a DER VCEK, a PEM ASK+ARK bundle), as
 * the hypervisor's certificate table holds them, or as a user's file. None of them is trusted:
 * this module only turns bytes into certificate objects.
 */

const MALFORMED = "certificate.malformed";

/**
 * One DER certificate, or PEM text with any number of CERTIFICATE blocks (text between the blocks
 * is ignored). `source` names where the input came from, for the error message.
 */
export function parseCertificates(input: Uint8Array | string, source: string): X509Certificate[] {
  return certificateDers(input, source).map(({ der, name }) => parseDer(der, name));
}

/**
 * The DER of each certificate in the input, not yet parsed, each with a name for messages: a
 * caller can recognise a pinned certificate by its bytes and skip parsing it again.
 */
export function certificateDers(
  input: Uint8Array | string,
  source: string,
): { readonly der: Uint8Array; readonly name: string }[] {
  if (typeof input !== "string" && input[0] === 0x30) return [{ der: input, name: source }];
  const blocks = pemBlocks(asText(input, source, MALFORMED), "CERTIFICATE", source, MALFORMED);
  if (blocks.length === 0) {
    throw new ParseError(
      MALFORMED,
      source,
      "holds neither a DER certificate nor a PEM CERTIFICATE block",
    );
  }
  return blocks.map((der, i) => ({
    der,
    name: blocks.length === 1 ? source : `${source} (certificate ${i + 1})`,
  }));
}

/** SHA-256 of the certificate's DER, lower-case hex: how pinned certificates are named. */
export function fingerprint(certificate: X509Certificate): string {
  return toHex(sha256(new Uint8Array(certificate.rawData)));
}

/**
 * Whether the certificate's or CRL's signature verifies under `key`. Never throws: a signature
 * the key cannot even be applied to (another algorithm, a malformed value) is simply not valid.
 */
export async function signedBy(
  signed: X509Certificate | X509Crl,
  key: CryptoKey,
): Promise<boolean> {
  try {
    return await signed.verify({ publicKey: key, signatureOnly: true });
  } catch {
    return false;
  }
}

export function parseDer(der: Uint8Array, source: string): X509Certificate {
  checkDerLength(der, source, MALFORMED);
  // Parsed once, checked for canonical DER, then handed to the certificate object as is.
  let asn: Certificate;
  try {
    asn = AsnConvert.parse(der, Certificate);
  } catch {
    throw new ParseError(MALFORMED, source, "is not a well-formed X.509 certificate");
  }
  if (!isCanonicalCertificate(asn, der)) {
    throw new ParseError(MALFORMED, source, "is not in canonical DER (it was re-encoded)");
  }
  try {
    return new X509Certificate(asn);
  } catch {
    throw new ParseError(MALFORMED, source, "is not a well-formed X.509 certificate");
  }
}

/** PEM is ASCII: bytes that are not UTF-8 text are neither DER nor PEM. */
export function asText(input: Uint8Array | string, source: string, code: string): string {
  if (typeof input === "string") return input;
  try {
    return fromUtf8(input);
  } catch {
    throw new ParseError(
      code,
      source,
      "is neither DER (it does not start with a SEQUENCE) nor PEM text",
    );
  }
}

/** The DER bytes of every `-----BEGIN <label>-----` block, in order. */
export function pemBlocks(text: string, label: string, source: string, code: string): Uint8Array[] {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const blocks: Uint8Array[] = [];
  let at = text.indexOf(begin);
  while (at !== -1) {
    const bodyStart = at + begin.length;
    const bodyEnd = text.indexOf(end, bodyStart);
    const where = `${source} (PEM block ${blocks.length + 1})`;
    if (bodyEnd === -1) throw new ParseError(code, where, `has no "${end}" line`);
    const body = text.slice(bodyStart, bodyEnd).replace(/\s+/g, "");
    const der = /^[A-Za-z0-9+/]*={0,2}$/.test(body)
      ? fromBase64Url(body.replaceAll("+", "-").replaceAll("/", "_"))
      : undefined;
    if (der === undefined || der.length === 0) {
      throw new ParseError(code, where, "is not valid base64");
    }
    blocks.push(der);
    at = text.indexOf(begin, bodyEnd + end.length);
  }
  return blocks;
}

/**
 * The input must be exactly one DER SEQUENCE: trailing bytes would change the fingerprint by
 * which pinned certificates are recognised, and a truncated one cannot be a certificate.
 */
export function checkDerLength(der: Uint8Array, source: string, code: string): void {
  const first = der[1];
  let length: number | undefined;
  let header = 2;
  if (first !== undefined && first < 0x80) {
    length = first;
  } else if (
    first !== undefined &&
    first >= 0x81 &&
    first <= 0x84 &&
    der.length >= 2 + (first & 0x7f)
  ) {
    header += first & 0x7f;
    length = 0;
    for (let i = 2; i < header; i++) length = length * 256 + (der[i] as number);
  }
  if (der[0] !== 0x30 || length === undefined) {
    throw new ParseError(code, source, "does not start with a DER SEQUENCE", 0);
  }
  if (header + length !== der.length) {
    throw new ParseError(
      code,
      source,
      `declares ${header + length} bytes of DER but holds ${der.length}`,
      Math.min(header + length, der.length),
    );
  }
}
