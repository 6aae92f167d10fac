import {
  asBufferSource,
  concat,
  equalBytes,
  fromBase64Url,
  sha256,
  toBase64Url,
  toHex,
} from "../../../bytes.js";
import { ParseError } from "../../../errors.js";
import { pass, short, skip } from "../../checks.js";
import type { Check } from "../../types.js";
import { VerificationError } from "../../verifier.js";

/**
 * The vTPM quote (TPM2_Quote) an Azure confidential VM returns: a TPMS_ATTEST structure
 * (TPM 2.0 Library Part 2, "TPMS_ATTEST" and "TPMS_QUOTE_INFO"), big-endian, signed by the
 * vTPM attestation key. Its extraData is the caller's nonce, which the SNP report itself cannot
 * carry on Azure (the paravisor owns REPORT_DATA), so the quote is where freshness comes from.
 */
export interface TpmQuote {
  /** TPM2B_NAME of the signing key: nameAlg followed by the digest of its public area. */
  readonly qualifiedSigner: Uint8Array;
  /** TPM2B_DATA: the nonce the verifier asked the vTPM to sign. */
  readonly extraData: Uint8Array;
  readonly clock: bigint;
  readonly resetCount: number;
  readonly restartCount: number;
  readonly safe: boolean;
  readonly firmwareVersion: bigint;
  /** The PCR banks and indices the digest covers, in the order the digest concatenates them. */
  readonly pcrSelections: readonly PcrSelection[];
  readonly pcrDigest: Uint8Array;
}

export interface PcrSelection {
  /** TPM_ALG_ID of the bank, e.g. 0x000b (SHA-256). */
  readonly hashAlg: number;
  /** Selected PCR indices, ascending. */
  readonly pcrs: readonly number[];
}

const TPM_GENERATED_VALUE = 0xff544347;
const TPM_ST_ATTEST_QUOTE = 0x8018;
const TPM_ALG_RSASSA = 0x0014;
const TPM_ALG_SHA256 = 0x000b;
/** Bounds that keep a hostile count from driving the parser: far above any real TPM. */
const MAX_PCR_BANKS = 16;
const MAX_PCR_SELECT_BYTES = 32;

const CODE = "azure.tpm_quote.malformed";

/** Total: returns the quote or throws a ParseError naming the field and its offset. */
export function parseTpmQuote(message: Uint8Array): TpmQuote {
  const r = new Reader(message);
  const magic = r.u32("magic");
  if (magic !== TPM_GENERATED_VALUE) {
    throw new ParseError(CODE, "magic", "is not TPM_GENERATED_VALUE (0xff544347)", 0);
  }
  const type = r.u16("type");
  if (type !== TPM_ST_ATTEST_QUOTE) {
    throw new ParseError(CODE, "type", `is 0x${type.toString(16)}, not TPM_ST_ATTEST_QUOTE`, 4);
  }
  const qualifiedSigner = r.sized("qualifiedSigner");
  const extraData = r.sized("extraData");
  const clock = r.u64("clockInfo.clock");
  const resetCount = r.u32("clockInfo.resetCount");
  const restartCount = r.u32("clockInfo.restartCount");
  const safeOffset = r.offset;
  const safeByte = r.u8("clockInfo.safe");
  if (safeByte > 1) throw new ParseError(CODE, "clockInfo.safe", "is not 0 or 1", safeOffset);
  const firmwareVersion = r.u64("firmwareVersion");

  const countOffset = r.offset;
  const count = r.u32("pcrSelect.count");
  if (count > MAX_PCR_BANKS) {
    throw new ParseError(CODE, "pcrSelect.count", `${count} banks is implausible`, countOffset);
  }
  const pcrSelections: PcrSelection[] = [];
  for (let i = 0; i < count; i++) {
    const hashAlg = r.u16(`pcrSelect[${i}].hash`);
    const sizeOffset = r.offset;
    const size = r.u8(`pcrSelect[${i}].sizeofSelect`);
    if (size > MAX_PCR_SELECT_BYTES) {
      throw new ParseError(
        CODE,
        `pcrSelect[${i}].sizeofSelect`,
        `${size} is too large`,
        sizeOffset,
      );
    }
    const bitmap = r.bytes(size, `pcrSelect[${i}].pcrSelect`);
    const pcrs: number[] = [];
    bitmap.forEach((byte, j) => {
      for (let bit = 0; bit < 8; bit++) if ((byte >> bit) & 1) pcrs.push(j * 8 + bit);
    });
    pcrSelections.push({ hashAlg, pcrs });
  }
  const pcrDigest = r.sized("pcrDigest");
  if (r.offset !== message.length) {
    throw new ParseError(CODE, "TPMS_ATTEST", "has bytes after pcrDigest", r.offset);
  }
  return {
    qualifiedSigner,
    extraData,
    clock,
    resetCount,
    restartCount,
    safe: safeByte === 1,
    firmwareVersion,
    pcrSelections,
    pcrDigest,
  };
}

/**
 * Checks that the attestation key signed `message` (RSASSA-PKCS1-v1_5, SHA-256) and, when PCR
 * values are given, that they are exactly what the signed pcrDigest covers. `quote` must be
 * `parseTpmQuote(message)`. Throws a VerificationError; returns the passed checks.
 */
export async function verifyTpmQuote(
  quote: TpmQuote,
  message: Uint8Array,
  signature: Uint8Array,
  akPub: JsonWebKey,
  pcrValues: readonly Uint8Array[],
): Promise<Check[]> {
  const key = await importAk(akPub);
  const valid = await crypto.subtle.verify(
    "RSASSA-PKCS1-v1_5",
    key,
    asBufferSource(rsaSignatureBytes(signature)),
    asBufferSource(message),
  );
  if (!valid) {
    throw new VerificationError(
      "azure.tpm_quote.signature",
      "The vTPM quote is not signed by the attestation key (HCLAkPub) in the HCL runtime data.",
    );
  }
  const checks = [
    pass("azure.tpm_quote.signature", "The vTPM quote is signed by the attestation key HCLAkPub."),
  ];
  if (pcrValues.length === 0) {
    checks.push(skip("azure.tpm_quote.pcr_digest", "No PCR values were supplied to check."));
    return checks;
  }
  const digest = await sha256(concat(selectedPcrValues(quote, pcrValues)));
  if (!equalBytes(digest, quote.pcrDigest)) {
    throw new VerificationError(
      "azure.tpm_quote.pcr_digest",
      `The PCR values hash to ${short(toHex(digest))}, not to the quote's pcrDigest ${short(toHex(quote.pcrDigest))}.`,
    );
  }
  checks.push(
    pass(
      "azure.tpm_quote.pcr_digest",
      `The ${pcrValues.length} SHA-256 PCR values match the quote's pcrDigest ${short(toHex(digest))}.`,
    ),
  );
  return checks;
}

/**
 * The values in the order pcrDigest concatenates them. Every supplied value must be covered by
 * the selection: a PCR outside it would be reported as attested without being signed.
 */
function selectedPcrValues(quote: TpmQuote, pcrValues: readonly Uint8Array[]): Uint8Array[] {
  const fail = (message: string) => new VerificationError("azure.tpm_quote.pcr_digest", message);
  const out: Uint8Array[] = [];
  const covered = new Set<number>();
  for (const selection of quote.pcrSelections) {
    if (selection.pcrs.length === 0) continue;
    if (selection.hashAlg !== TPM_ALG_SHA256) {
      throw fail(
        `The quote selects PCRs of bank 0x${selection.hashAlg.toString(16)}; only SHA-256 PCR values can be checked.`,
      );
    }
    for (const index of selection.pcrs) {
      const value = pcrValues[index];
      if (value === undefined) {
        throw fail(`The quote covers PCR ${index}, but the evidence has no value for it.`);
      }
      out.push(value);
      covered.add(index);
    }
  }
  for (let index = 0; index < pcrValues.length; index++) {
    if (!covered.has(index)) {
      throw fail(`The evidence carries PCR ${index}, which the quote does not cover.`);
    }
  }
  return out;
}

/**
 * The signature may come raw (the RSA block) or as a TPMT_SIGNATURE (sigAlg RSASSA, hashAlg
 * SHA-256, TPM2B size). The header is stripped only when all three fields agree, so a raw
 * signature that happens to start with the same bytes is not truncated.
 */
export function rsaSignatureBytes(signature: Uint8Array): Uint8Array {
  if (signature.length < 6) return signature;
  const view = new DataView(signature.buffer, signature.byteOffset, signature.byteLength);
  const isTpmt =
    view.getUint16(0) === TPM_ALG_RSASSA &&
    view.getUint16(2) === TPM_ALG_SHA256 &&
    view.getUint16(4) === signature.length - 6;
  return isTpmt ? signature.subarray(6) : signature;
}

async function importAk(akPub: JsonWebKey): Promise<CryptoKey> {
  // Only the public numbers: the stored JWK says key_ops ["sign"] (the vTPM's view), which
  // WebCrypto would refuse for a verify key. Round-tripping n and e drops any base64 padding.
  const n = typeof akPub.n === "string" ? fromBase64Url(akPub.n) : undefined;
  const e = typeof akPub.e === "string" ? fromBase64Url(akPub.e) : undefined;
  try {
    if (akPub.kty !== "RSA" || n === undefined || e === undefined) throw new Error("not RSA");
    return await crypto.subtle.importKey(
      "jwk",
      { kty: "RSA", n: toBase64Url(n), e: toBase64Url(e) },
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      false,
      ["verify"],
    );
  } catch (cause) {
    throw new VerificationError(
      "azure.tpm_quote.ak_key",
      "The attestation key HCLAkPub is not a usable RSA public key.",
      { cause },
    );
  }
}

/** A bounds-checked big-endian cursor: every read past the end is a ParseError at its offset. */
class Reader {
  offset = 0;
  private readonly view: DataView;

  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  private need(size: number, field: string): number {
    const at = this.offset;
    if (at + size > this.data.length) {
      throw new ParseError(CODE, field, `needs ${size} bytes but the quote ends`, at);
    }
    this.offset += size;
    return at;
  }

  u8(field: string): number {
    return this.view.getUint8(this.need(1, field));
  }

  u16(field: string): number {
    return this.view.getUint16(this.need(2, field));
  }

  u32(field: string): number {
    return this.view.getUint32(this.need(4, field));
  }

  u64(field: string): bigint {
    return this.view.getBigUint64(this.need(8, field));
  }

  bytes(size: number, field: string): Uint8Array {
    const at = this.need(size, field);
    return this.data.slice(at, at + size);
  }

  /** A TPM2B: u16 size, then that many bytes. */
  sized(field: string): Uint8Array {
    return this.bytes(this.u16(`${field}.size`), field);
  }
}
