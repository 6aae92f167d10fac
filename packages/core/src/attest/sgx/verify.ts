import { toHex } from "../../bytes.js";
import { dcapPlatformClaims, INTEL_TRUST_ANCHOR } from "../dcap/claims.js";
import { SGX_QUOTE_FORMAT } from "../dcap/formats.js";
import { verifyQuote } from "../dcap/verify-quote.js";
import type { Claims, Evidence, VerifyContext } from "../types.js";
import { type PlatformVerifier, requireFormat, type VerifiedEvidence } from "../verifier.js";
import { appraiseSgx } from "./appraise.js";
import type { SgxPlatformClaims } from "./claims.js";

/** ATTRIBUTES.FLAGS bit 1: the enclave is debuggable and its memory readable. */
const SGX_DEBUG = 2n;

/** parse -> verify for Intel SGX quotes (an enclave, e.g. Cloister under Gramine-SGX). */
export const sgxVerifier: PlatformVerifier = {
  platform: "sgx",
  async verify(evidence: Evidence, context: VerifyContext): Promise<VerifiedEvidence> {
    requireFormat(evidence, SGX_QUOTE_FORMAT, "SGX");
    const verified = await verifyQuote(evidence.data, "sgx", context.collateral, context.now);
    const { quote } = verified;
    if (quote.teeType !== "sgx") throw new Error("unreachable: verifyQuote checked the TEE");
    const body = quote.body;
    const platformClaims: SgxPlatformClaims = {
      ...dcapPlatformClaims(verified),
      mrEnclave: toHex(body.mrEnclave),
      mrSigner: toHex(body.mrSigner),
      isvProdId: body.isvProdId,
      isvSvn: body.isvSvn,
      attributes: toHex(body.attributes.raw),
      miscSelect: body.miscSelect,
      configId: toHex(body.configId),
      configSvn: body.configSvn,
      isvExtProdId: toHex(body.isvExtProdId),
      isvFamilyId: toHex(body.isvFamilyId),
      reportCpuSvn: toHex(body.cpuSvn),
      reportData: toHex(body.reportData),
    };
    const claims: Claims = {
      platform: "sgx",
      measurement: platformClaims.mrEnclave,
      reportData: body.reportData,
      debug: (body.attributes.flags & SGX_DEBUG) !== 0n,
      hardwareId: platformClaims.ppid,
      trustAnchor: INTEL_TRUST_ANCHOR,
      platformClaims: platformClaims as unknown as Readonly<Record<string, unknown>>,
    };
    return { claims, checks: verified.checks };
  },
  appraise: appraiseSgx,
};
