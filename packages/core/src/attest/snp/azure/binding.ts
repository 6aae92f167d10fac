import { asBufferSource, equalBytes, sha256, toHex } from "../../../bytes.js";
import { ParseError } from "../../../errors.js";
import { pass, short, skip } from "../../checks.js";
import type { Check } from "../../types.js";
import { VerificationError } from "../../verifier.js";
import type { AzureEvidence } from "./evidence.js";
import type { HclHashType } from "./hcl-report.js";
import { verifyTpmQuote } from "./tpm-quote.js";

/**
 * The chain of custody on Azure: the AMD-signed SNP report vouches for the runtime data (its
 * hash is REPORT_DATA), the runtime data vouches for the vTPM attestation key, and that key
 * vouches for the quote, its nonce and the PCRs. Each link is checked here; the first (the SNP
 * report's own signature and VCEK chain) is the caller's.
 */
export interface AzureBinding {
  /** The checks that passed (and `skip` for a quote or PCRs the evidence does not carry). */
  readonly checks: Check[];
  /** The quote's extraData: the verifier's nonce, authenticated by the chain above. */
  readonly nonce?: Uint8Array;
  /** The SHA-256 PCR values, authenticated by the quote's pcrDigest. */
  readonly pcrs?: Uint8Array[];
  /** The runtime data's "user-data", authenticated by REPORT_DATA. */
  readonly userData?: Uint8Array;
}

const REPORT_DATA_SIZE = 64;

const DIGESTS: Readonly<Record<HclHashType, { name: string; size: number }>> = {
  sha256: { name: "SHA-256", size: 32 },
  sha384: { name: "SHA-384", size: 48 },
  sha512: { name: "SHA-512", size: 64 },
};

/**
 * `reportData` must be REPORT_DATA of the SNP report after its signature and VCEK chain were
 * verified: everything here inherits its trust from that. Throws a VerificationError on the
 * first broken link.
 */
export async function verifyAzureBinding(
  evidence: AzureEvidence,
  reportData: Uint8Array,
): Promise<AzureBinding> {
  if (reportData.length !== REPORT_DATA_SIZE) {
    throw new ParseError(
      "azure.report_data.malformed",
      "REPORT_DATA",
      `is ${reportData.length} bytes, not ${REPORT_DATA_SIZE}`,
    );
  }
  const { name, size } = DIGESTS[evidence.hcl.hashType];
  const digest =
    name === "SHA-256"
      ? await sha256(evidence.hcl.runtimeData)
      : new Uint8Array(await crypto.subtle.digest(name, asBufferSource(evidence.hcl.runtimeData)));
  const bound = reportData.subarray(0, size);
  if (!equalBytes(digest, bound)) {
    throw new VerificationError(
      "azure.runtime_data.binding",
      `The HCL runtime data hashes to ${short(toHex(digest))}, but the SNP report's REPORT_DATA holds ${short(toHex(bound))}.`,
    );
  }
  const checks: Check[] = [
    pass(
      "azure.runtime_data.binding",
      `REPORT_DATA[0:${size}] is the ${name} of the HCL runtime data (${short(toHex(digest))}).`,
    ),
  ];
  if (size < REPORT_DATA_SIZE) {
    // Unused REPORT_DATA bytes must be zero: anything else is data the paravisor did not put
    // there, and nothing downstream would look at it.
    if (reportData.subarray(size).some((b) => b !== 0)) {
      throw new VerificationError(
        "azure.runtime_data.padding",
        `REPORT_DATA[${size}:64] is not zero, as the paravisor leaves it.`,
      );
    }
    checks.push(pass("azure.runtime_data.padding", `REPORT_DATA[${size}:64] is zero.`));
  }

  const { quote, runtime } = evidence;
  const userData = runtime.userData === undefined ? {} : { userData: runtime.userData };
  if (quote === undefined) {
    checks.push(
      skip(
        "azure.tpm_quote.signature",
        "The evidence carries no vTPM quote, so no nonce or PCRs are attested.",
      ),
    );
    return { checks, ...userData };
  }
  checks.push(
    ...(await verifyTpmQuote(
      quote.attest,
      quote.message,
      quote.signature,
      runtime.akPub,
      quote.pcrs,
    )),
  );
  return {
    checks,
    nonce: quote.attest.extraData,
    ...(quote.pcrs.length === 0 ? {} : { pcrs: [...quote.pcrs] }),
    ...userData,
  };
}

/**
 * Freshness: the quote's extraData must be the nonce this verifier issued. Throws a
 * VerificationError ("azure.tpm_quote.nonce") otherwise, including when there is no quote.
 */
export function checkAzureNonce(binding: AzureBinding, expected: Uint8Array): Check {
  if (binding.nonce === undefined) {
    throw new VerificationError(
      "azure.tpm_quote.nonce",
      "The evidence carries no vTPM quote, so it cannot carry the expected nonce.",
    );
  }
  if (!equalBytes(binding.nonce, expected)) {
    throw new VerificationError(
      "azure.tpm_quote.nonce",
      `The vTPM quote's nonce ${short(toHex(binding.nonce))} is not the expected ${short(toHex(expected))}.`,
    );
  }
  return pass("azure.tpm_quote.nonce", "The vTPM quote carries the expected nonce.");
}
