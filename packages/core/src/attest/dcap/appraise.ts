import { fail, pass, warn } from "../checks.js";
import type { Policy } from "../policy.js";
import type { Check } from "../types.js";
import type { DcapPlatformClaims } from "./claims.js";
import type { TcbStatus } from "./policy.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_STATUSES: readonly TcbStatus[] = ["UpToDate"];

/**
 * The collateral rules TDX and SGX share: the TCB status Intel assigns (UpToDate only, unless the
 * policy names others, which then warn), denied advisories, and how recent the collateral is.
 */
export function appraiseDcap(claims: DcapPlatformClaims, policy: Policy, now: Date): Check[] {
  const rules = policy.dcap ?? {};
  const tcb = claims.tcb;
  if (tcb === undefined) {
    return [
      fail(
        "dcap.policy.tcb_status",
        "The TCB status is unknown: no Intel collateral (TCB info, QE identity) was supplied. Pass it with --collateral or --fetch-collateral.",
      ),
    ];
  }
  const accepted = rules.tcbStatuses ?? DEFAULT_STATUSES;
  const advisories = tcb.advisoryIds.length === 0 ? "" : ` (${tcb.advisoryIds.join(", ")})`;
  const checks: Check[] = [];
  if (!accepted.includes(tcb.status)) {
    checks.push(
      fail(
        "dcap.policy.tcb_status",
        `Intel rates this platform's TCB ${tcb.status}${advisories}; the policy accepts ${accepted.join(", ")}.`,
      ),
    );
  } else if (tcb.status === "UpToDate") {
    checks.push(pass("dcap.policy.tcb_status", "Intel rates this platform's TCB UpToDate."));
  } else {
    checks.push(
      warn(
        "dcap.policy.tcb_status",
        `Intel rates this platform's TCB ${tcb.status}${advisories}, which the policy accepts.`,
      ),
    );
  }
  const denied = (rules.deniedAdvisoryIds ?? []).filter((id) => tcb.advisoryIds.includes(id));
  if (denied.length > 0) {
    checks.push(
      fail(
        "dcap.policy.advisory",
        `The platform is affected by ${denied.join(", ")}, which the policy denies.`,
      ),
    );
  }
  const floor = rules.minimumTcbEvaluationDataNumber;
  if (floor !== undefined) {
    checks.push(
      tcb.tcbEvaluationDataNumber >= floor
        ? pass(
            "dcap.policy.tcb_evaluation_data_number",
            `The collateral's TCB evaluation data number ${tcb.tcbEvaluationDataNumber} is at least ${floor}.`,
          )
        : fail(
            "dcap.policy.tcb_evaluation_data_number",
            `The collateral's TCB evaluation data number ${tcb.tcbEvaluationDataNumber} is below ${floor}: it predates a TCB recovery the policy requires.`,
          ),
    );
  }
  const maxAge = rules.maxCollateralAgeDays;
  if (maxAge !== undefined) {
    const oldest = Math.min(Date.parse(tcb.tcbInfoIssueDate), Date.parse(tcb.qeIdentityIssueDate));
    const ageDays = (now.getTime() - oldest) / DAY_MS;
    const age = ageDays.toFixed(1);
    checks.push(
      ageDays <= maxAge
        ? pass(
            "dcap.policy.collateral_age",
            `The collateral was issued ${age} days ago, within ${maxAge}.`,
          )
        : fail(
            "dcap.policy.collateral_age",
            `The collateral was issued ${age} days ago; the policy accepts at most ${maxAge}.`,
          ),
    );
  }
  return checks;
}
