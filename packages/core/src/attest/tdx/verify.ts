import { toHex } from "../../bytes.js";
import { warn } from "../checks.js";
import { dcapPlatformClaims, INTEL_TRUST_ANCHOR } from "../dcap/claims.js";
import { DCAP_COLLATERAL, TDX_QUOTE_FORMAT } from "../dcap/formats.js";
import { verifyQuote } from "../dcap/verify-quote.js";
import type { Check, Claims, Collateral, Evidence, VerifyContext } from "../types.js";
import { type PlatformVerifier, requireFormat, type VerifiedEvidence } from "../verifier.js";
import { appraiseTdx } from "./appraise.js";
import { parseCcelTable } from "./ccel.js";
import type { EventLogClaim, TdxPlatformClaims } from "./claims.js";
import { parseEventLog } from "./event-log.js";
import { bootSummary, checkReplay, type Rtmrs } from "./replay.js";

/** TD_ATTRIBUTES bit 0: the TD is debuggable and the host can read its memory. */
const TD_DEBUG = 1n;

/** parse -> verify for Intel TDX quotes, with the CCEL event log replayed when it is supplied. */
export const tdxVerifier: PlatformVerifier = {
  platform: "tdx",
  async verify(evidence: Evidence, context: VerifyContext): Promise<VerifiedEvidence> {
    requireFormat(evidence, TDX_QUOTE_FORMAT, "TDX");
    const verified = await verifyQuote(evidence.data, "tdx", context.collateral, context.now);
    const { quote } = verified;
    if (quote.teeType !== "tdx") throw new Error("unreachable: verifyQuote checked the TEE");
    const body = quote.body;
    const eventLog = await replayEventLog(context.collateral, body.rtmrs);
    const [rtmr0, rtmr1, rtmr2, rtmr3] = body.rtmrs.map(toHex) as [string, string, string, string];
    const platformClaims: TdxPlatformClaims = {
      ...dcapPlatformClaims(verified),
      teeTcbSvn: toHex(body.teeTcbSvn),
      mrSeam: toHex(body.mrSeam),
      mrSignerSeam: toHex(body.mrSignerSeam),
      seamAttributes: toHex(body.seamAttributes),
      tdAttributes: toHex(body.tdAttributes.raw),
      xfam: toHex(body.xfam.raw),
      mrTd: toHex(body.mrTd),
      mrConfigId: toHex(body.mrConfigId),
      mrOwner: toHex(body.mrOwner),
      mrOwnerConfig: toHex(body.mrOwnerConfig),
      rtmr0,
      rtmr1,
      rtmr2,
      rtmr3,
      reportData: toHex(body.reportData),
      ...(body.teeTcbSvn2 === undefined ? {} : { teeTcbSvn2: toHex(body.teeTcbSvn2) }),
      ...(body.mrServiceTd === undefined ? {} : { mrServiceTd: toHex(body.mrServiceTd) }),
      ...(eventLog.claim === undefined ? {} : { eventLog: eventLog.claim }),
    };
    const claims: Claims = {
      platform: "tdx",
      measurement: platformClaims.mrTd,
      reportData: body.reportData,
      debug: (body.tdAttributes.value & TD_DEBUG) !== 0n,
      hardwareId: platformClaims.ppid,
      trustAnchor: INTEL_TRUST_ANCHOR,
      platformClaims: platformClaims as unknown as Readonly<Record<string, unknown>>,
    };
    return { claims, checks: [...verified.checks, ...eventLog.checks] };
  },
  appraise: appraiseTdx,
};

/**
 * RTMR0–2 hold what firmware, bootloader and kernel measured at boot: a log that replays to them
 * says what those were. RTMR3 is extended at run time by the OS, so a log that does not explain
 * it is a warning, not a refusal.
 */
async function replayEventLog(
  collateral: Collateral,
  rtmrs: Rtmrs,
): Promise<{ checks: Check[]; claim?: EventLogClaim }> {
  const data = collateral[DCAP_COLLATERAL.ccelData];
  if (data === undefined || typeof data === "string") return { checks: [] };
  const table = collateral[DCAP_COLLATERAL.ccelTable];
  const logAreaLength =
    table === undefined || typeof table === "string"
      ? undefined
      : parseCcelTable(table).logAreaMinimumLength;
  const log = parseEventLog(data, logAreaLength === undefined ? {} : { logAreaLength });
  const checks = (await checkReplay(log, rtmrs)).map((check) =>
    check.status === "fail" && check.message.startsWith("RTMR3")
      ? warn("tdx.event_log.rtmr3", check.message)
      : check,
  );
  if (checks.some((c) => c.status === "fail")) return { checks };
  const summary = await bootSummary(log);
  return {
    checks,
    claim: {
      replayed: true,
      events: log.events.length,
      ...(summary.kernelCmdline === undefined ? {} : { kernelCmdline: summary.kernelCmdline }),
      ...(summary.kernel === undefined ? {} : { kernel: summary.kernel.sha384 }),
      bootApplications: summary.bootApplications.map((image) => image.sha384),
      ...(summary.secureBoot === undefined ? {} : { secureBoot: summary.secureBoot }),
    },
  };
}
