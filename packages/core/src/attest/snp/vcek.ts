import { fromBER, IA5String, Integer, OctetString } from "asn1js";
import { ParseError } from "../../errors.js";
import type { X509Certificate } from "../pki/x509.js";
import type { SnpProduct } from "./abi/types.js";
import { SNP_PRODUCTS } from "./roots.js";

/**
 * What AMD certifies about the key that signs reports, read from the VCEK's or VLEK's private
 * extensions (AMD "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface
 * Specification", certificate extensions under 1.3.6.1.4.1.3704.1). A VCEK is issued to one chip
 * (hwID) at one TCB; a VLEK to a cloud provider (cspId) at one TCB. Nothing read here is trusted
 * until the chain check has verified the certificate's signature.
 */

export type SigningKind = "vcek" | "vlek";

/** The TCB the certificate was issued for: each component's security patch level (SPL). */
export interface CertifiedTcb {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  /** Turin only. */
  readonly fmc?: number;
}

export interface SigningCertInfo {
  readonly kind: SigningKind;
  /** As the certificate spells it, e.g. "Milan-B0", "Genoa", "Turin". */
  readonly productName: string;
  /** The product family before any "-stepping" suffix; undefined when AMD names another. */
  readonly product: SnpProduct | undefined;
  readonly tcb: CertifiedTcb;
  /** VCEK only: the chip's ID, 64 bytes (Milan, Genoa) or 8 bytes (Turin). */
  readonly hwid?: Uint8Array;
  /** Older VCEKs hold the hwID bytes bare, newer ones wrap them in a DER OCTET STRING. */
  readonly hwidEncoding?: "raw" | "octet-string";
  /** VLEK only: the cloud provider the key was issued to. */
  readonly cspId?: string;
}

const AMD = "1.3.6.1.4.1.3704.1";
export const VCEK_OIDS = {
  productName: `${AMD}.2`,
  blSPL: `${AMD}.3.1`,
  teeSPL: `${AMD}.3.2`,
  snpSPL: `${AMD}.3.3`,
  ucodeSPL: `${AMD}.3.8`,
  fmcSPL: `${AMD}.3.9`,
  hwID: `${AMD}.4`,
  cspId: `${AMD}.5`,
} as const;

const CODE = "snp.vcek.extension";

/** Reads the kind, product, TCB and identity a VCEK or VLEK certifies. */
export function readSigningCert(certificate: X509Certificate): SigningCertInfo {
  const kind = kindOf(certificate);
  const extensions = amdExtensions(certificate);
  const productName = ia5String(extensions, VCEK_OIDS.productName);
  const family = productName.split("-")[0] as SnpProduct;
  const product = SNP_PRODUCTS.includes(family) ? family : undefined;
  const fmc = extensions.has(VCEK_OIDS.fmcSPL) ? spl(extensions, VCEK_OIDS.fmcSPL) : undefined;
  if (product === "Turin" && fmc === undefined) missing(VCEK_OIDS.fmcSPL, "fmcSPL");
  const tcb: CertifiedTcb = {
    bootloader: spl(extensions, VCEK_OIDS.blSPL),
    tee: spl(extensions, VCEK_OIDS.teeSPL),
    snp: spl(extensions, VCEK_OIDS.snpSPL),
    microcode: spl(extensions, VCEK_OIDS.ucodeSPL),
    ...(fmc === undefined ? {} : { fmc }),
  };
  if (kind === "vlek") {
    return { kind, productName, product, tcb, cspId: ia5String(extensions, VCEK_OIDS.cspId) };
  }
  const { hwid, encoding } = hwId(extensions, product);
  return { kind, productName, product, tcb, hwid, hwidEncoding: encoding };
}

/** AMD names the leaf "SEV-VCEK" or "SEV-VLEK"; any other certificate (ASK, ASVK, ARK) is neither. */
export function signingKindOf(certificate: X509Certificate): SigningKind | undefined {
  const names = certificate.subjectName.getField("CN");
  if (names.length !== 1) return undefined;
  if (names[0] === "SEV-VCEK") return "vcek";
  if (names[0] === "SEV-VLEK") return "vlek";
  return undefined;
}

/** The chain check binds the leaf's name to the signer: a certificate without one is refused. */
function kindOf(certificate: X509Certificate): SigningKind {
  const kind = signingKindOf(certificate);
  if (kind !== undefined) return kind;
  const names = certificate.subjectName.getField("CN");
  throw new ParseError(
    "snp.vcek.kind",
    "subject",
    `the signing certificate's common name must be SEV-VCEK or SEV-VLEK, not ${JSON.stringify(names.join(", ").slice(0, 64))}`,
  );
}

function amdExtensions(certificate: X509Certificate): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const extension of certificate.extensions) {
    if (!extension.type.startsWith(`${AMD}.`)) continue;
    if (out.has(extension.type)) {
      throw new ParseError(CODE, extension.type, "the extension appears more than once");
    }
    out.set(extension.type, new Uint8Array(extension.value));
  }
  return out;
}

function missing(oid: string, name: string): never {
  throw new ParseError(CODE, oid, `the certificate lacks the ${name} extension`);
}

function required(extensions: Map<string, Uint8Array>, oid: string): Uint8Array {
  const value = extensions.get(oid);
  if (value === undefined) {
    const name = Object.entries(VCEK_OIDS).find(([, o]) => o === oid)?.[0] ?? oid;
    missing(oid, name);
  }
  return value;
}

/** Decodes one complete DER value; trailing bytes or another type are malformed. */
function decode<T>(bytes: Uint8Array, type: new () => T, oid: string, what: string): T {
  const { offset, result } = fromBER(bytes);
  if (offset !== bytes.length || !(result instanceof type)) {
    throw new ParseError(CODE, oid, `the extension value is not a DER ${what}`);
  }
  return result;
}

/** An SPL is one byte of the TCB_VERSION, so the INTEGER must lie in 0..255. */
function spl(extensions: Map<string, Uint8Array>, oid: string): number {
  const value = decode(required(extensions, oid), Integer, oid, "INTEGER").toBigInt();
  if (value < 0n || value > 255n) {
    throw new ParseError(CODE, oid, `the security patch level ${value} is outside 0..255`);
  }
  return Number(value);
}

function ia5String(extensions: Map<string, Uint8Array>, oid: string): string {
  const value = decode(required(extensions, oid), IA5String, oid, "IA5String").getValue();
  if (value.length === 0 || !/^[\x20-\x7e]*$/.test(value)) {
    throw new ParseError(CODE, oid, "the string is empty or holds non-printable characters");
  }
  return value;
}

/**
 * The hwID is the CHIP_ID the firmware reports: 64 bytes, or on Turin its first 8 bytes. It comes
 * bare or wrapped in an OCTET STRING (04 len …); the expected length tells the two apart, since a
 * bare value that happened to start with 04 would announce a length that does not fit.
 */
function hwId(
  extensions: Map<string, Uint8Array>,
  product: SnpProduct | undefined,
): { hwid: Uint8Array; encoding: "raw" | "octet-string" } {
  const value = required(extensions, VCEK_OIDS.hwID);
  const lengths = product === undefined ? [8, 64] : product === "Turin" ? [8] : [64];
  if (value[0] === 0x04 && lengths.includes(value.length - 2) && value[1] === value.length - 2) {
    const inner = decode(value, OctetString, VCEK_OIDS.hwID, "OCTET STRING");
    return { hwid: new Uint8Array(inner.valueBlock.valueHexView), encoding: "octet-string" };
  }
  if (lengths.includes(value.length)) return { hwid: value, encoding: "raw" };
  throw new ParseError(
    CODE,
    VCEK_OIDS.hwID,
    `the hwID has ${value.length} bytes; a ${product ?? "SEV-SNP"} chip ID has ${lengths.join(" or ")}`,
  );
}
