import { ECDSASigValue } from "@peculiar/asn1-ecc";
import { AsnConvert } from "@peculiar/asn1-schema";
import { type Certificate, CertificateList } from "@peculiar/asn1-x509";
import * as asn1js from "asn1js";
import { equalBytes } from "../../bytes.js";

/** ecdsa-with-SHA256/384/512 (RFC 5758): the signature value is itself a DER ECDSA-Sig-Value. */
const ECDSA_SIGNATURES = new Set([
  "1.2.840.10045.4.3.2",
  "1.2.840.10045.4.3.3",
  "1.2.840.10045.4.3.4",
]);

/**
 * Certificates must be DER, the one encoding of each value. A lenient parser also reads other
 * encodings of the parts outside the signed TBS bytes (a wrong tag on the signature algorithm, a
 * non-zero unused-bits count, a re-framed ECDSA-Sig-Value): the signature still verifies, but one
 * certificate then has many byte forms and many fingerprints, and pinning by fingerprint is
 * undermined. Re-encoding the parsed structure and comparing refuses every form but the
 * canonical one, as OpenSSL does.
 */
export function isCanonicalCertificate(certificate: Certificate, der: Uint8Array): boolean {
  try {
    if (!equalBytes(new Uint8Array(AsnConvert.serialize(certificate)), der)) return false;
    return canonicalSignatureValue(
      certificate.signatureAlgorithm.algorithm,
      certificate.signatureValue,
    );
  } catch {
    return false;
  }
}

/**
 * The same for a CRL's signature framing: its signature algorithm and signature value must be in
 * their one DER form. (The signed TBS part is the issuer's to encode: its signature covers it.)
 */
export function isCanonicalCrlSignature(der: Uint8Array): boolean {
  try {
    const list = AsnConvert.parse(der, CertificateList);
    const outer = asn1js.fromBER(der);
    const [, algorithm, value] =
      outer.result instanceof asn1js.Sequence ? outer.result.valueBlock.value : [];
    if (!(algorithm instanceof asn1js.Sequence) || !(value instanceof asn1js.BitString))
      return false;
    const encodedAlgorithm = new Uint8Array(algorithm.valueBeforeDecodeView);
    if (
      !equalBytes(new Uint8Array(AsnConvert.serialize(list.signatureAlgorithm)), encodedAlgorithm)
    ) {
      return false;
    }
    if (value.valueBlock.unusedBits !== 0) return false;
    return canonicalSignatureValue(list.signatureAlgorithm.algorithm, list.signature);
  } catch {
    return false;
  }
}

function canonicalSignatureValue(algorithm: string, value: ArrayBuffer): boolean {
  if (!ECDSA_SIGNATURES.has(algorithm)) return true;
  const bytes = new Uint8Array(value);
  return equalBytes(
    new Uint8Array(AsnConvert.serialize(AsnConvert.parse(bytes, ECDSASigValue))),
    bytes,
  );
}
