import { type AttestationResult, CloisterError, type Problem } from "@cloister/core";

/** The workload's attestation did not satisfy the policy; `result` holds every check. */
export class AttestationRefusedError extends CloisterError {
  readonly result: AttestationResult;

  constructor(result: AttestationResult) {
    const failed = result.checks.filter((c) => c.status === "fail");
    super(
      "attestation.refused",
      `The workload's attestation was refused: ${failed.map((c) => `${c.message} [${c.code}]`).join(" ") || "no check passed."}`,
    );
    this.result = result;
  }
}

/** The gateway refused the request in the clear (before decapsulating it, or as a replay). */
export class GatewayError extends CloisterError {
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(
      "gateway.refused",
      `The gateway refused the request (${problem.status} ${problem.title}): ${problem.detail ?? problem.type}`,
    );
    this.problem = problem;
  }
}
