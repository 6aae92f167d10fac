import { equalBytes, toHex } from "../bytes.js";
import { CloisterError } from "../errors.js";
import { fail, pass, short, skip, warn } from "./checks.js";
import type { Policy } from "./policy.js";
import type { AttestationResult, Check, Claims, Collateral, Evidence, Verdict } from "./types.js";
import { verifierFor } from "./verifiers.js";

export interface AttestOptions {
  /** The time to check validity at; verifiers never read the clock themselves. */
  readonly now: Date;
  readonly collateral?: Collateral;
  /** When given, the evidence's report data must equal these 64 bytes. */
  readonly expectedReportData?: Uint8Array;
  /** What the expected report data stands for, in the check's sentence. */
  readonly binds?: string;
}

export interface VerifyOptions {
  /** The time to check validity at; verifiers never read the clock themselves. */
  readonly now: Date;
  readonly collateral?: Collateral;
  /** Simulated roots (public JWKs) to accept; without them simulated evidence cannot verify. */
  readonly simulatedRoots?: readonly JsonWebKey[];
}

/** What parse + verify established, before any policy: the checks run and, if authentic, the claims. */
export interface Authenticity {
  readonly checks: readonly Check[];
  /** Present only when the evidence is authentic. */
  readonly claims?: Claims;
}

/**
 * parse -> verify only: is the evidence authentic? For callers that appraise elsewhere. Never
 * throws for bad evidence: every problem becomes a failed check with its reason code.
 */
export async function verifyEvidence(
  evidence: Evidence,
  options: VerifyOptions,
): Promise<Authenticity> {
  const verifier = verifierFor(evidence.platform);
  if (verifier === undefined) {
    return {
      checks: [
        fail(
          "evidence.platform_unsupported",
          `This verifier has no support for ${evidence.platform} evidence yet.`,
        ),
      ],
    };
  }
  try {
    const verified = await verifier.verify(evidence, {
      now: options.now,
      collateral: options.collateral ?? {},
      simulatedRoots: options.simulatedRoots ?? [],
    });
    // A verifier may finish with a failed check that is not a throw (a revoked intermediate):
    // such evidence is not authentic, and its claims must not be handed on.
    return verified.checks.some((c) => c.status === "fail")
      ? { checks: verified.checks }
      : verified;
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
    return { checks: [fail(error.code, error.message)] };
  }
}

/**
 * parse -> verify -> appraise for one piece of evidence. Never throws for bad evidence: every
 * problem becomes a failed check with its reason code, and the verdict follows from the checks.
 */
export async function attest(
  evidence: Evidence,
  policy: Policy,
  options: AttestOptions,
): Promise<AttestationResult> {
  const authenticity = await verifyEvidence(evidence, {
    now: options.now,
    ...(options.collateral === undefined ? {} : { collateral: options.collateral }),
    simulatedRoots: policy.platforms.includes("simulated") ? (policy.simulatedRoots ?? []) : [],
  });
  const checks: Check[] = [platformCheck(evidence, policy), ...authenticity.checks];
  const claims = authenticity.claims;
  if (claims !== undefined) {
    checks.push(...appraiseClaims(claims, policy));
    if (options.expectedReportData !== undefined) {
      checks.push(
        reportDataCheck(
          claims.reportData,
          options.expectedReportData,
          options.binds ?? "the workload manifest",
        ),
      );
    }
    const appraise = verifierFor(evidence.platform)?.appraise;
    if (appraise !== undefined) checks.push(...appraise(claims, policy, options.now));
  }
  return {
    verdict: verdictOf(checks),
    platform: evidence.platform,
    insecure: evidence.platform === "simulated",
    checks,
    ...(claims === undefined ? {} : { claims }),
  };
}

/** The rules every platform shares: measurement, debug, hardware identity, simulation. */
export function appraiseClaims(claims: Claims, policy: Policy): Check[] {
  const checks: Check[] = [];
  if (claims.platform === "simulated") {
    checks.push(
      warn(
        "platform.simulated",
        "INSECURE: the evidence comes from a simulated TEE; nothing about it is backed by hardware.",
      ),
    );
  }
  const measurements = policy.measurements;
  if (measurements === undefined || measurements.length === 0) {
    checks.push(
      skip(
        "policy.measurement",
        `The measurement ${short(claims.measurement)} is not pinned by the policy.`,
      ),
    );
  } else if (measurements.map((m) => m.toLowerCase()).includes(claims.measurement)) {
    checks.push(
      pass(
        "policy.measurement",
        `The measurement ${short(claims.measurement)} is one the policy allows.`,
      ),
    );
  } else {
    checks.push(
      fail(
        "policy.measurement",
        `The measurement ${short(claims.measurement)} is not one the policy allows.`,
      ),
    );
  }
  if (!claims.debug) {
    checks.push(pass("policy.debug", "The TEE runs with debugging disabled."));
  } else if (policy.allowDebug === true) {
    checks.push(
      warn(
        "policy.debug",
        "The TEE runs with debugging enabled, which this policy allows: the host can read its memory.",
      ),
    );
  } else {
    checks.push(
      fail("policy.debug", "The TEE runs with debugging enabled: the host can read its memory."),
    );
  }
  const ids = policy.hardwareIds;
  if (ids !== undefined && ids.length > 0) {
    const id = claims.hardwareId;
    if (id !== undefined && ids.map((x) => x.toLowerCase()).includes(id)) {
      checks.push(
        pass("policy.hardware_id", `The hardware identity ${short(id)} is one the policy allows.`),
      );
    } else {
      checks.push(
        fail(
          "policy.hardware_id",
          `The hardware identity ${id === undefined ? "(none)" : short(id)} is not one the policy allows.`,
        ),
      );
    }
  }
  return checks;
}

function platformCheck(evidence: Evidence, policy: Policy): Check {
  if (policy.platforms.includes(evidence.platform)) {
    return pass("policy.platform", `The policy accepts ${evidence.platform} evidence.`);
  }
  if (evidence.platform === "simulated") {
    return fail(
      "policy.platform",
      "The evidence comes from a simulated TEE, which this policy does not accept (allow `simulated` and pin its root to accept it).",
    );
  }
  return fail("policy.platform", `The policy does not accept ${evidence.platform} evidence.`);
}

function reportDataCheck(actual: Uint8Array, expected: Uint8Array, binds: string): Check {
  if (equalBytes(actual, expected)) {
    return pass("binding.report_data", `The evidence's report data binds ${binds}.`);
  }
  return fail(
    "binding.report_data",
    `The evidence's report data (${short(toHex(actual))}) does not bind ${binds} (expected ${short(toHex(expected))}).`,
  );
}

export function verdictOf(checks: readonly Check[]): Verdict {
  if (checks.some((c) => c.status === "fail")) return "contraindicated";
  if (checks.some((c) => c.status === "warn")) return "warning";
  return "affirming";
}
