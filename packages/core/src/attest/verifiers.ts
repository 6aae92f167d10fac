import { ccaVerifier } from "./cca/verify.js";
import { psaVerifier } from "./psa/verify.js";
import { sgxVerifier } from "./sgx/verify.js";
import { simulatedVerifier } from "./simulated/verify.js";
import { snpVerifier } from "./snp/verify.js";
import { tdxVerifier } from "./tdx/verify.js";
import type { Platform } from "./types.js";
import type { PlatformVerifier } from "./verifier.js";

/** Adding a platform is a folder under attest/ plus one line here. */
const VERIFIERS: ReadonlyMap<Platform, PlatformVerifier> = new Map([
  [simulatedVerifier.platform, simulatedVerifier],
  [snpVerifier.platform, snpVerifier],
  [tdxVerifier.platform, tdxVerifier],
  [sgxVerifier.platform, sgxVerifier],
  [ccaVerifier.platform, ccaVerifier],
  [psaVerifier.platform, psaVerifier],
]);

export function verifierFor(platform: Platform): PlatformVerifier | undefined {
  return VERIFIERS.get(platform);
}
