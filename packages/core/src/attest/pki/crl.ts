import { asBufferSource, fromHex } from "../../bytes.js";
import { ParseError } from "../../errors.js";
import { isCanonicalCrlSignature } from "./canonical-der.js";
import { asText, checkDerLength, pemBlocks } from "./certificates.js";
import { X509Crl } from "./x509.js";

/**
 * A CRL as DER bytes, PEM (label "X509 CRL" or "CRL"), or the hex text of the DER that collateral
 * JSON (e.g. dcap-qvl's `pck_crl`) holds. `source` names it and `code` is the platform's reason
 * code for errors.
 */
export function parseCrlInput(input: Uint8Array | string, source: string, code: string): X509Crl {
  let der: Uint8Array;
  if (typeof input !== "string" && input[0] === 0x30) {
    der = input;
  } else {
    const text = asText(input, source, code).trim();
    der = /^(?:[0-9a-fA-F]{2})+$/.test(text)
      ? (fromHex(text) as Uint8Array)
      : pemCrl(text, source, code);
  }
  checkDerLength(der, source, code);
  let crl: X509Crl;
  try {
    crl = new X509Crl(asBufferSource(der));
  } catch {
    throw new ParseError(code, source, "is not a well-formed X.509 CRL");
  }
  if (!isCanonicalCrlSignature(der)) {
    throw new ParseError(code, source, "has its signature in a non-canonical DER form");
  }
  return crl;
}

function pemCrl(text: string, source: string, code: string): Uint8Array {
  // RFC 7468 names the label "X509 CRL"; some tools (and @peculiar/x509) write "CRL".
  const blocks = [
    ...pemBlocks(text, "X509 CRL", source, code),
    ...pemBlocks(text, "CRL", source, code),
  ];
  if (blocks.length !== 1 || blocks[0] === undefined) {
    throw new ParseError(
      code,
      source,
      `must hold one DER CRL, its hex, or one PEM CRL block, not ${blocks.length} blocks`,
    );
  }
  return blocks[0];
}
