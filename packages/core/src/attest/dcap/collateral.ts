import { fromBase64Url, fromHex, fromUtf8, toBase64Url, toHex, utf8 } from "../../bytes.js";
import { ParseError } from "../../errors.js";
import { checkDerLength, pemBlocks } from "../pki/certificates.js";

/**
 * The Intel collateral a DCAP quote is verified against, in the shapes it travels in:
 *
 * - Cloister's offline bundle, one JSON file the CLI writes after fetching from Intel PCS:
 *   `{"format": "cloister/dcap-collateral/v1", "tcbInfo": "<PCS TCB info body, verbatim>",
 *   "qeIdentity": "<PCS QE identity body, verbatim>", "tcbSigningChain": "<PEM>",
 *   "pckCrl"?: "<PEM, base64 or hex DER>", "rootCrl"?: …, "pckCrlIssuerChain"?: "<PEM>"}`.
 *   The PCS bodies are kept as text because Intel's signature covers their exact bytes.
 * - Phala's dcap-qvl `QuoteCollateralV3` JSON, which holds each signed value as its own string
 *   with the signature beside it in hex, and the CRLs as hex DER.
 * - The individual files Intel PCS serves (collateralFromParts). PCS sends the TCB signing chain
 *   in an HTTP header (URL-encoded PEM), not in the body, so it comes separately.
 *
 * Nothing here is trusted: signatures, chains and CRLs are checked by their own modules.
 */

export const DCAP_COLLATERAL_BUNDLE_FORMAT = "cloister/dcap-collateral/v1";

/** One signed PCS document and the exact bytes its signature covers. */
export interface SignedJson {
  /** The whole JSON text, `{"tcbInfo": {...}, "signature": "…"}` (or enclaveIdentity). */
  readonly text: string;
  /** The UTF-8 bytes of the signed member's value, exactly as they appear in `text`. */
  readonly signedBytes: Uint8Array;
  /** ECDSA P-256 r || s, 64 bytes. */
  readonly signature: Uint8Array;
}

export interface DcapCollateral {
  readonly tcbInfo: SignedJson;
  readonly qeIdentity: SignedJson;
  /** PEM: the Intel SGX TCB Signing certificate, optionally followed by the root. */
  readonly tcbSigningChain: string;
  /** DER. */
  readonly pckCrl?: Uint8Array;
  /** DER. */
  readonly rootCrl?: Uint8Array;
  /** PEM: the PCK CRL's issuer (Platform or Processor CA), optionally followed by the root. */
  readonly pckCrlIssuerChain?: string;
}

/** Individual files, as PCS serves them or a user holds them; each replaces the base's member. */
export interface CollateralParts {
  /** The PCS TCB info body, `{"tcbInfo": …, "signature": …}`. */
  readonly tcbInfo?: string | Uint8Array;
  /** The PCS QE identity body, `{"enclaveIdentity": …, "signature": …}`. */
  readonly qeIdentity?: string | Uint8Array;
  /** PEM, the URL-encoded PEM of the PCS header, or one DER certificate. */
  readonly tcbSigningChain?: string | Uint8Array;
  /** DER, PEM, base64 or hex. */
  readonly pckCrl?: string | Uint8Array;
  readonly rootCrl?: string | Uint8Array;
  readonly pckCrlIssuerChain?: string | Uint8Array;
}

const MALFORMED = "dcap.collateral.malformed";
const BUNDLE_MEMBERS = [
  "tcbInfo",
  "qeIdentity",
  "tcbSigningChain",
  "pckCrl",
  "rootCrl",
  "pckCrlIssuerChain",
];

/** Reads a Cloister collateral bundle or a dcap-qvl QuoteCollateralV3 JSON. */
export function parseCollateralBundle(input: string | Uint8Array): DcapCollateral {
  const text = asText(input, "the collateral bundle");
  const document = jsonObject(text, "the collateral bundle");
  if (document.format !== undefined) return fromCloisterBundle(document);
  if (document.tcb_info !== undefined) return fromDcapQvl(document);
  if (document.tcbInfo !== undefined || document.enclaveIdentity !== undefined) {
    throw new ParseError(
      MALFORMED,
      "the collateral bundle",
      "is a single Intel PCS document, not a bundle: pass the TCB info, QE identity and TCB signing chain as separate files",
    );
  }
  throw new ParseError(
    MALFORMED,
    "the collateral bundle",
    `is neither a Cloister collateral bundle ("format": "${DCAP_COLLATERAL_BUNDLE_FORMAT}") nor dcap-qvl collateral JSON`,
  );
}

/**
 * Collateral from individual files (PCS responses, the issuer-chain header, CRLs), each
 * replacing the member of `base` if one is given. TCB info, QE identity and the TCB signing
 * chain must end up present.
 */
export function collateralFromParts(parts: CollateralParts, base?: DcapCollateral): DcapCollateral {
  const tcbInfo =
    parts.tcbInfo === undefined
      ? base?.tcbInfo
      : signedPcsDocument(asText(parts.tcbInfo, "tcbInfo"), "tcbInfo", "tcbInfo");
  const qeIdentity =
    parts.qeIdentity === undefined
      ? base?.qeIdentity
      : signedPcsDocument(asText(parts.qeIdentity, "qeIdentity"), "enclaveIdentity", "qeIdentity");
  const tcbSigningChain =
    parts.tcbSigningChain === undefined
      ? base?.tcbSigningChain
      : certificateChain(parts.tcbSigningChain, "tcbSigningChain");
  if (tcbInfo === undefined) throw missing("tcbInfo");
  if (qeIdentity === undefined) throw missing("qeIdentity");
  if (tcbSigningChain === undefined) throw missing("tcbSigningChain");
  const pckCrl = parts.pckCrl === undefined ? base?.pckCrl : crl(parts.pckCrl, "pckCrl");
  const rootCrl = parts.rootCrl === undefined ? base?.rootCrl : crl(parts.rootCrl, "rootCrl");
  const pckCrlIssuerChain =
    parts.pckCrlIssuerChain === undefined
      ? base?.pckCrlIssuerChain
      : certificateChain(parts.pckCrlIssuerChain, "pckCrlIssuerChain");
  return {
    tcbInfo,
    qeIdentity,
    tcbSigningChain,
    ...(pckCrl === undefined ? {} : { pckCrl }),
    ...(rootCrl === undefined ? {} : { rootCrl }),
    ...(pckCrlIssuerChain === undefined ? {} : { pckCrlIssuerChain }),
  };
}

/** Writes the Cloister bundle; parseCollateralBundle reads it back to equal collateral. */
export function encodeCollateralBundle(collateral: DcapCollateral): string {
  const bundle = {
    format: DCAP_COLLATERAL_BUNDLE_FORMAT,
    tcbInfo: collateral.tcbInfo.text,
    qeIdentity: collateral.qeIdentity.text,
    tcbSigningChain: collateral.tcbSigningChain,
    ...(collateral.pckCrl === undefined ? {} : { pckCrl: pem(collateral.pckCrl, "X509 CRL") }),
    ...(collateral.rootCrl === undefined ? {} : { rootCrl: pem(collateral.rootCrl, "X509 CRL") }),
    ...(collateral.pckCrlIssuerChain === undefined
      ? {}
      : { pckCrlIssuerChain: collateral.pckCrlIssuerChain }),
  };
  return `${JSON.stringify(bundle, null, 2)}\n`;
}

function fromCloisterBundle(document: Record<string, unknown>): DcapCollateral {
  if (document.format !== DCAP_COLLATERAL_BUNDLE_FORMAT) {
    throw new ParseError(
      MALFORMED,
      "format",
      `is ${JSON.stringify(String(document.format).slice(0, 60))}; this version reads "${DCAP_COLLATERAL_BUNDLE_FORMAT}"`,
    );
  }
  const parts: Record<string, string> = {};
  for (const [name, value] of Object.entries(document)) {
    if (name === "format") continue;
    if (!BUNDLE_MEMBERS.includes(name)) {
      throw new ParseError(MALFORMED, name, `is not a member of ${DCAP_COLLATERAL_BUNDLE_FORMAT}`);
    }
    if (typeof value !== "string") throw new ParseError(MALFORMED, name, "is not a string");
    parts[name] = value;
  }
  return collateralFromParts(parts);
}

/**
 * dcap-qvl keeps each signed value as its own string, so the signed bytes are that string's
 * UTF-8; `text` is rebuilt as the PCS body around it, byte for byte, so that every SignedJson
 * has the same shape. The QE identity's issuer chain is the TCB signing chain again: the one
 * TCB signing key verifies both documents, so a different chain there is not needed.
 */
function fromDcapQvl(document: Record<string, unknown>): DcapCollateral {
  const string = (name: string): string => {
    const value = document[name];
    if (typeof value !== "string") {
      throw new ParseError(MALFORMED, name, value === undefined ? "is missing" : "is not a string");
    }
    return value;
  };
  const bytes = (name: string): Uint8Array => {
    const value = document[name];
    if (typeof value === "string") {
      const decoded = fromHex(value);
      if (decoded === undefined) throw new ParseError(MALFORMED, name, "is not hex");
      return decoded;
    }
    if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
      return Uint8Array.from(value as number[]);
    }
    throw new ParseError(
      MALFORMED,
      name,
      value === undefined ? "is missing" : "is neither hex nor a byte array",
    );
  };
  const signed = (value: string, signature: string, key: string): SignedJson => {
    const sig = bytes(signature);
    if (sig.length !== 64) {
      throw new ParseError(MALFORMED, signature, `is ${sig.length} bytes, not 64 (r || s)`);
    }
    jsonObject(string(value), value);
    return {
      text: `{"${key}":${string(value)},"signature":"${toHex(sig)}"}`,
      signedBytes: utf8(string(value)),
      signature: sig,
    };
  };
  const optional = (name: string) => document[name] !== undefined;
  return {
    tcbInfo: signed("tcb_info", "tcb_info_signature", "tcbInfo"),
    qeIdentity: signed("qe_identity", "qe_identity_signature", "enclaveIdentity"),
    tcbSigningChain: certificateChain(string("tcb_info_issuer_chain"), "tcb_info_issuer_chain"),
    ...(optional("pck_crl") ? { pckCrl: crl(bytes("pck_crl"), "pck_crl") } : {}),
    ...(optional("root_ca_crl") ? { rootCrl: crl(bytes("root_ca_crl"), "root_ca_crl") } : {}),
    ...(optional("pck_crl_issuer_chain")
      ? {
          pckCrlIssuerChain: certificateChain(
            string("pck_crl_issuer_chain"),
            "pck_crl_issuer_chain",
          ),
        }
      : {}),
  };
}

/**
 * A PCS body `{"<key>": {...}, "signature": "<hex>"}`. The signed bytes are found by scanning
 * the text for the member's value, never by re-serialising the parsed object: Intel signs the
 * bytes as served, and any whitespace between the members is outside them.
 */
function signedPcsDocument(text: string, key: string, field: string): SignedJson {
  const document = jsonObject(text, field);
  const value = document[key];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ParseError(
      MALFORMED,
      `${field}.${key}`,
      value === undefined ? "is missing" : "is not an object",
    );
  }
  const signature =
    typeof document.signature === "string" ? fromHex(document.signature) : undefined;
  if (signature === undefined || signature.length !== 64) {
    throw new ParseError(MALFORMED, `${field}.signature`, "is not 64 bytes of hex (r || s)");
  }
  const [start, end] = memberSpan(text, key, field);
  return { text, signedBytes: utf8(text.slice(start, end)), signature };
}

/**
 * Where the value of the top-level member `key` starts and ends in `text`, which has already
 * parsed as a JSON object. Names are compared decoded (a name may be written with escapes, as
 * JSON.parse reads it), and a repeated name is refused: which copy was signed would be unclear.
 */
function memberSpan(text: string, key: string, field: string): [number, number] {
  let span: [number, number] | undefined;
  const seen = new Set<string>();
  let i = skipSpace(text, skipSpace(text, 0) + 1);
  while (text[i] !== "}") {
    const nameEnd = valueEnd(text, i);
    const name = JSON.parse(text.slice(i, nameEnd)) as string;
    if (seen.has(name)) {
      throw new ParseError(MALFORMED, `${field}.${name}`, "appears twice in the document");
    }
    seen.add(name);
    const start = skipSpace(text, skipSpace(text, nameEnd) + 1);
    const end = valueEnd(text, start);
    if (name === key) span = [start, end];
    i = skipSpace(text, end);
    if (text[i] === ",") i = skipSpace(text, i + 1);
  }
  if (span === undefined) throw new ParseError(MALFORMED, `${field}.${key}`, "is missing");
  return span;
}

/** The index just past the JSON value starting at `i` (valid JSON assumed). */
function valueEnd(text: string, i: number): number {
  const first = text[i];
  if (first === '"') {
    let j = i + 1;
    while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
    return j + 1;
  }
  if (first === "{" || first === "[") {
    let depth = 0;
    let j = i;
    do {
      const c = text[j];
      if (c === '"') {
        j = valueEnd(text, j);
        continue;
      }
      if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") depth--;
      j++;
    } while (depth > 0);
    return j;
  }
  let j = i;
  while (j < text.length && !/[\s,}\]]/.test(text[j] as string)) j++;
  return j;
}

function skipSpace(text: string, i: number): number {
  let j = i;
  while (j < text.length && /[ \t\n\r]/.test(text[j] as string)) j++;
  return j;
}

/**
 * Certificates as PEM text, URL-encoded PEM (the PCS issuer-chain header) or one DER
 * certificate, returned as plain PEM, each certificate checked to be one whole DER SEQUENCE.
 */
function certificateChain(input: string | Uint8Array, field: string): string {
  if (typeof input !== "string" && input[0] === 0x30) {
    checkDerLength(input, field, MALFORMED);
    return pem(input, "CERTIFICATE");
  }
  let text = asText(input, field);
  if (!text.includes("-----BEGIN CERTIFICATE-----") && text.includes("%")) {
    try {
      text = decodeURIComponent(text);
    } catch {
      throw new ParseError(MALFORMED, field, "is neither PEM nor URL-encoded PEM");
    }
  }
  const ders = pemBlocks(text, "CERTIFICATE", field, MALFORMED);
  if (ders.length === 0) throw new ParseError(MALFORMED, field, "holds no PEM certificate");
  ders.forEach((der, i) => {
    checkDerLength(der, `${field} (certificate ${i + 1})`, MALFORMED);
  });
  return ders.map((der) => pem(der, "CERTIFICATE")).join("");
}

/** A CRL as DER, PEM, base64 or hex (a PCCS serves the root CA CRL as hex), returned as DER. */
function crl(input: string | Uint8Array, field: string): Uint8Array {
  let der: Uint8Array | undefined;
  if (typeof input !== "string" && input[0] === 0x30) {
    der = input;
  } else {
    const text = asText(input, field).trim();
    if (text.includes("-----BEGIN X509 CRL-----")) {
      const blocks = pemBlocks(text, "X509 CRL", field, MALFORMED);
      if (blocks.length !== 1) throw new ParseError(MALFORMED, field, "holds more than one CRL");
      der = blocks[0];
    } else if (/^[0-9a-fA-F]+$/.test(text)) {
      der = fromHex(text);
    } else {
      der = base64(text.replace(/\s+/g, ""));
    }
  }
  if (der === undefined)
    throw new ParseError(MALFORMED, field, "is not a CRL in DER, PEM, base64 or hex");
  checkDerLength(der, field, MALFORMED);
  return der;
}

function base64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) return undefined;
  return fromBase64Url(text.replaceAll("+", "-").replaceAll("/", "_"));
}

function pem(der: Uint8Array, label: string): string {
  const b64 = toBase64Url(der).replaceAll("-", "+").replaceAll("_", "/");
  const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
  const lines = padded.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** UTF-8 text without a byte-order mark (JSON.parse refuses one; it is never signed). */
function asText(input: string | Uint8Array, field: string): string {
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else {
    try {
      text = fromUtf8(input);
    } catch {
      throw new ParseError(MALFORMED, field, "is not UTF-8 text");
    }
  }
  return text.startsWith("\uFEFF") ? text.slice(1) : text;
}

function jsonObject(text: string, field: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ParseError(MALFORMED, field, "is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ParseError(MALFORMED, field, "is not a JSON object");
  }
  return value as Record<string, unknown>;
}

function missing(field: string): ParseError {
  return new ParseError(MALFORMED, field, "is missing: DCAP collateral needs it");
}
