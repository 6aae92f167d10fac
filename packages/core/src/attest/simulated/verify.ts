import { calculateJwkThumbprint, compactVerify, importJWK, type JWK } from "jose";
import { fromHex } from "../../bytes.js";
import { pass } from "../checks.js";
import type { Claims, Evidence, VerifyContext } from "../types.js";
import { type PlatformVerifier, VerificationError, type VerifiedEvidence } from "../verifier.js";
import { SIMULATED_ALG, SIMULATED_FORMAT } from "./format.js";
import { parseSimulatedEvidence } from "./parse.js";

/** The JWK thumbprint (RFC 7638, SHA-256) that names a simulated root. */
export function simulatedRootId(root: JsonWebKey): Promise<string> {
  return calculateJwkThumbprint(root as JWK, "sha256");
}

/** A malformed pin is the policy's fault, not the evidence's, and is reported as such. */
async function pinnedRootId(root: JsonWebKey): Promise<string> {
  try {
    return await simulatedRootId(root);
  } catch {
    throw new VerificationError(
      "policy.simulated_root",
      "A simulated root the policy pins is not a valid public JWK.",
    );
  }
}

async function verify(evidence: Evidence, context: VerifyContext): Promise<VerifiedEvidence> {
  if (evidence.format !== SIMULATED_FORMAT) {
    throw new VerificationError(
      "evidence.format",
      `Simulated evidence must be in the ${SIMULATED_FORMAT} format, not ${evidence.format}.`,
    );
  }
  const parsed = parseSimulatedEvidence(evidence.data);
  const kid = parsed.header.kid;
  let root: JsonWebKey | undefined;
  for (const candidate of context.simulatedRoots) {
    if ((await pinnedRootId(candidate)) === kid) root = candidate;
  }
  if (root === undefined) {
    throw new VerificationError(
      "evidence.trust_anchor",
      `The evidence is signed by simulated root ${kid}, which the policy does not pin.`,
    );
  }
  try {
    const key = await importJWK(root as JWK, SIMULATED_ALG);
    await compactVerify(parsed.compact, key, { algorithms: [SIMULATED_ALG] });
  } catch {
    throw new VerificationError(
      "evidence.signature",
      `The evidence's signature does not verify with simulated root ${kid}.`,
    );
  }
  const report = parsed.report;
  const claims: Claims = {
    platform: "simulated",
    measurement: report.measurement,
    reportData: fromHex(report.report_data) as Uint8Array,
    debug: report.debug,
    hardwareId: report.instance_id,
    issuedAt: new Date(report.iat * 1000),
    trustAnchor: { name: "simulated root", fingerprint: kid },
    platformClaims: { instance_id: report.instance_id, iat: report.iat },
  };
  return {
    claims,
    checks: [
      pass("evidence.trust_anchor", `The evidence chains to the pinned simulated root ${kid}.`),
      pass("evidence.signature", "The evidence's ES384 signature verifies."),
    ],
  };
}

export const simulatedVerifier: PlatformVerifier = { platform: "simulated", verify };
