import { ParseError } from "../../errors.js";
import { certificateDers, parseDer } from "../pki/certificates.js";
import { parseQuote } from "./abi/quote.js";
import type { TeeType } from "./abi/types.js";
import { readPckExtensions } from "./pck.js";

/** What Intel's collateral is looked up by: the TEE, the platform's FMSPC and the PCK's CA. */
export interface DcapPlatformId {
  readonly tee: TeeType;
  /** Lower-case hex, 6 bytes. */
  readonly fmspc: string;
  readonly pckCa: "platform" | "processor";
}

/**
 * Reads, without verifying anything, which collateral a quote needs. For a collateral fetcher:
 * the collateral it fetches is verified with the quote afterwards.
 */
export function dcapPlatformId(quoteBytes: Uint8Array): DcapPlatformId {
  const quote = parseQuote(quoteBytes);
  const [leaf, ca] = certificateDers(
    quote.signatureData.certification.pckChainPem,
    "the PCK certificate chain",
  ).map(({ der, name }) => parseDer(der, name));
  if (leaf === undefined || ca === undefined) {
    throw new ParseError(
      "dcap.pck.chain",
      "PCK certificate chain",
      "holds fewer than two certificates",
    );
  }
  const caName = ca.subjectName.getField("CN").join(", ");
  return {
    tee: quote.teeType,
    fmspc: readPckExtensions(leaf).fmspc,
    pckCa: /Processor/i.test(caName) ? "processor" : "platform",
  };
}
