import { ParseError } from "../../../errors.js";
import type { QuoteHeader, TeeType } from "./types.js";

/** Every DCAP quote version starts with the same 48-byte header. */
export const HEADER_SIZE = 48;

/** ECDSA-256-with-P-256: the only attestation key type the DCAP quoting enclaves use. */
export const ECDSA_P256 = 2;

/**
 * TEE_TYPE values. Version 3 has no TEE type: the four bytes are reserved, and an SGX quote
 * leaves them zero, which later versions then defined as "SGX".
 */
export const TEE_TYPE_OF: ReadonlyMap<number, TeeType> = new Map([
  [0x00, "sgx"],
  [0x81, "tdx"],
]);

const KNOWN_VERSIONS: ReadonlySet<number> = new Set([3, 4, 5]);

/**
 * The first 48 bytes of `bytes` -> QuoteHeader. Throws a ParseError for a short input, an
 * unknown version, a key type other than ECDSA P-256, or a TEE type the version cannot carry:
 * each of those changes the layout that follows, so nothing after the header could be read
 * with confidence.
 *
 * Bytes 8..12 are read as the QE and PCE SVNs whatever the version: version 3 defines them so,
 * versions 4 and 5 reserve them and TDX quoting enclaves write zero, which is what the header
 * then reports. They are not required to be zero, as reserved fields get repurposed.
 */
export function parseHeader(bytes: Uint8Array): QuoteHeader {
  if (bytes.length < HEADER_SIZE) {
    throw new ParseError(
      "dcap.quote.length",
      "header",
      `needs ${HEADER_SIZE} bytes, the quote has ${bytes.length}`,
      bytes.length,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const version = view.getUint16(0, true);
  if (!KNOWN_VERSIONS.has(version)) {
    throw new ParseError("dcap.quote.version", "version", `must be 3, 4 or 5, got ${version}`, 0);
  }
  const attestationKeyType = view.getUint16(2, true);
  if (attestationKeyType !== ECDSA_P256) {
    throw new ParseError(
      "dcap.quote.key_type",
      "attestation_key_type",
      `must be ${ECDSA_P256} (ECDSA P-256), got ${attestationKeyType}`,
      2,
    );
  }
  const teeTypeValue = view.getUint32(4, true);
  const teeType = TEE_TYPE_OF.get(teeTypeValue);
  if (teeType === undefined) {
    throw new ParseError(
      "dcap.quote.tee_type",
      "tee_type",
      `must be 0x0 (SGX) or 0x81 (TDX), got 0x${teeTypeValue.toString(16)}`,
      4,
    );
  }
  if (version === 3 && teeType !== "sgx") {
    // The version is what is wrong here: a TD body does not fit the version 3 layout.
    throw new ParseError(
      "dcap.quote.version",
      "version",
      "3 lays out SGX enclave quotes only, but the TEE type is 0x81 (TDX), which needs version 4 or 5",
      0,
    );
  }
  return {
    version,
    attestationKeyType,
    teeType,
    qeSvn: view.getUint16(8, true),
    pceSvn: view.getUint16(10, true),
    qeVendorId: new Uint8Array(bytes.subarray(12, 28)),
    userData: new Uint8Array(bytes.subarray(28, 48)),
  };
}
