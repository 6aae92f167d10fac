import type { JWTPayload } from "jose";
import { fail, pass } from "../../checks.js";
import type { Check } from "../../types.js";

/**
 * The appraisal NVIDIA's remote GPU policy applies to NRAS claims (nvtrust attestation SDK,
 * NVGPURemotePolicyExample v3/v4), as checks. Claims that exist in one claims version only
 * (x-nvidia-ver 2.0 has `…-cert-validated` booleans, 3.0 certificate-status objects) are read
 * in whichever form the token has.
 */

export interface NrasExpectedGpu {
  /** The installed driver version, e.g. "550.90.07"; compared case-insensitively. */
  readonly driverVersion?: string;
  /** The VBIOS version, e.g. "96.00.9F.00.01"; compared case-insensitively. */
  readonly vbiosVersion?: string;
}

/** Claims every GPU token must carry as `true`. */
const REQUIRED_TRUE = [
  "x-nvidia-gpu-attestation-report-parsed",
  "x-nvidia-gpu-attestation-report-nonce-match",
  "x-nvidia-gpu-attestation-report-signature-verified",
  "x-nvidia-gpu-driver-rim-fetched",
  "x-nvidia-gpu-driver-rim-schema-validated",
  "x-nvidia-gpu-driver-rim-signature-verified",
  "x-nvidia-gpu-driver-rim-measurements-available",
  "x-nvidia-gpu-vbios-rim-fetched",
  "x-nvidia-gpu-vbios-rim-schema-validated",
  "x-nvidia-gpu-vbios-rim-signature-verified",
  "x-nvidia-gpu-vbios-rim-measurements-available",
  "x-nvidia-gpu-vbios-index-no-conflict",
] as const;

/** Claims newer NRAS versions add; when present they must be `true`. */
const TRUE_IF_PRESENT = [
  "x-nvidia-gpu-attestation-report-cert-chain-fwid-match",
  "x-nvidia-gpu-driver-rim-version-match",
  "x-nvidia-gpu-vbios-rim-version-match",
] as const;

const CERT_CHAINS = ["attestation-report", "driver-rim", "vbios-rim"] as const;

export function overallChecks(overall: JWTPayload): Check[] {
  return [
    overall["x-nvidia-overall-att-result"] === true
      ? pass("nvidia.nras.overall_result", "NRAS reports the overall attestation result as true.")
      : fail(
          "nvidia.nras.overall_result",
          "NRAS reports the overall attestation result as not true.",
        ),
  ];
}

export function gpuChecks(
  name: string,
  claims: JWTPayload,
  expected: NrasExpectedGpu = {},
): Check[] {
  const checks: Check[] = [
    claims.measres === "success"
      ? pass("nvidia.nras.measres", `${name}: NRAS found the measurements equal to the RIMs.`)
      : fail(
          "nvidia.nras.measres",
          `${name}: NRAS reports the measurement result as ${JSON.stringify(String(claims.measres)).slice(0, 40)}, not "success".`,
        ),
    claims["x-nvidia-gpu-arch-check"] === true
      ? pass("nvidia.nras.arch_check", `${name}: NRAS confirmed the GPU architecture.`)
      : fail("nvidia.nras.arch_check", `${name}: NRAS did not confirm the GPU architecture.`),
  ];
  const bad = [
    ...REQUIRED_TRUE.filter((claim) => claims[claim] !== true),
    ...TRUE_IF_PRESENT.filter((claim) => claim in claims && claims[claim] !== true),
  ];
  checks.push(
    bad.length === 0
      ? pass("nvidia.nras.claims", `${name}: every report and RIM status claim is true.`)
      : fail(
          "nvidia.nras.claims",
          `${name}: these claims are missing or not true: ${bad.join(", ")}.`,
        ),
  );
  for (const chain of CERT_CHAINS) checks.push(certificateCheck(name, claims, chain));
  if (claims.secboot !== undefined && claims.secboot !== true) {
    checks.push(fail("nvidia.nras.secboot", `${name}: NRAS reports secure boot as not enabled.`));
  }
  if (claims.dbgstat !== undefined && claims.dbgstat !== "disabled") {
    checks.push(fail("nvidia.nras.dbgstat", `${name}: NRAS reports debug as not disabled.`));
  }
  checks.push(
    ...version(name, "driver", claims["x-nvidia-gpu-driver-version"], expected.driverVersion),
    ...version(name, "VBIOS", claims["x-nvidia-gpu-vbios-version"], expected.vbiosVersion),
  );
  return checks;
}

function certificateCheck(name: string, claims: JWTPayload, chain: string): Check {
  const code = "nvidia.nras.cert_chain";
  const status = claims[`x-nvidia-gpu-${chain}-cert-chain`];
  if (typeof status === "object" && status !== null) {
    const record = status as Record<string, unknown>;
    const cert = record["x-nvidia-cert-status"];
    const ocsp = record["x-nvidia-cert-ocsp-status"];
    return cert === "valid" && ocsp === "good"
      ? pass(code, `${name}: NRAS found the ${chain} certificate chain valid and not revoked.`)
      : fail(
          code,
          `${name}: NRAS reports the ${chain} certificate chain as ${JSON.stringify(String(cert)).slice(0, 20)} with OCSP ${JSON.stringify(String(ocsp)).slice(0, 20)}.`,
        );
  }
  const valid =
    claims[`x-nvidia-gpu-${chain}-cert-chain-validated`] ??
    claims[`x-nvidia-gpu-${chain}-cert-validated`];
  return valid === true
    ? pass(code, `${name}: NRAS validated the ${chain} certificate chain.`)
    : fail(code, `${name}: NRAS did not validate the ${chain} certificate chain.`);
}

function version(
  name: string,
  what: string,
  actual: unknown,
  expected: string | undefined,
): Check[] {
  if (expected === undefined) return [];
  const code = `nvidia.nras.${what.toLowerCase()}_version`;
  return typeof actual === "string" && actual.toLowerCase() === expected.toLowerCase()
    ? [pass(code, `${name}: the ${what} version is ${actual}, as expected.`)]
    : [
        fail(
          code,
          `${name}: the ${what} version is ${JSON.stringify(String(actual)).slice(0, 30)}, not the expected ${expected}.`,
        ),
      ];
}
