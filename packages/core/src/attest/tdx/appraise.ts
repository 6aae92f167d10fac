import { fail, pass, pinnedHex } from "../checks.js";
import { appraiseDcap } from "../dcap/appraise.js";
import type { Policy } from "../policy.js";
import type { Check, Claims } from "../types.js";
import type { TdxPlatformClaims } from "./claims.js";

const RTMRS = ["rtmr0", "rtmr1", "rtmr2", "rtmr3"] as const;

/**
 * The TDX rules of a policy on top of the common ones (MRTD as `measurements`, debug from
 * TD_ATTRIBUTES, PPID as hardware ID) and the collateral rules TDX shares with SGX.
 */
export function appraiseTdx(claims: Claims, policy: Policy, now: Date): Check[] {
  const tdx = claims.platformClaims as unknown as TdxPlatformClaims;
  const rules = policy.tdx ?? {};
  const checks = appraiseDcap(tdx, policy, now);
  for (const rtmr of RTMRS) {
    checks.push(
      ...pinnedHex(`tdx.policy.${rtmr}`, rtmr.toUpperCase(), tdx[rtmr], rules.rtmrs?.[rtmr]),
    );
  }
  checks.push(
    ...pinnedHex(
      "tdx.policy.mr_seam",
      "TDX module measurement (MRSEAM)",
      tdx.mrSeam,
      rules.mrSeams,
    ),
    ...pinnedHex("tdx.policy.mr_config_id", "MRCONFIGID", tdx.mrConfigId, rules.mrConfigIds),
    ...pinnedHex("tdx.policy.mr_owner", "MROWNER", tdx.mrOwner, rules.mrOwners),
    ...pinnedHex(
      "tdx.policy.mr_owner_config",
      "MROWNERCONFIG",
      tdx.mrOwnerConfig,
      rules.mrOwnerConfigs,
    ),
    ...pinnedHex("tdx.policy.xfam", "XFAM", tdx.xfam, rules.xfams),
    ...pinnedHex("tdx.policy.td_attributes", "TD attributes", tdx.tdAttributes, rules.tdAttributes),
  );
  if (rules.requireEventLog === true || rules.kernelCmdlines !== undefined) {
    checks.push(eventLogCheck(tdx, rules.kernelCmdlines));
  }
  return checks;
}

function eventLogCheck(tdx: TdxPlatformClaims, cmdlines: readonly string[] | undefined): Check {
  const log = tdx.eventLog;
  if (log === undefined) {
    return fail(
      "tdx.policy.event_log",
      "The policy needs the boot event log, but no CCEL was supplied (or it did not replay to the quote's RTMRs).",
    );
  }
  if (cmdlines === undefined) {
    return pass("tdx.policy.event_log", `The event log (${log.events} events) replays to RTMR0–2.`);
  }
  if (log.kernelCmdline !== undefined && cmdlines.includes(log.kernelCmdline)) {
    return pass("tdx.policy.kernel_cmdline", "The kernel command line is one the policy allows.");
  }
  return fail(
    "tdx.policy.kernel_cmdline",
    log.kernelCmdline === undefined
      ? "The event log records no kernel command line, and the policy pins one."
      : "The kernel command line in the event log is not one the policy allows.",
  );
}
