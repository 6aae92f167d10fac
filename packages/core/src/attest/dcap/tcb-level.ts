import { toHex } from "../../bytes.js";
import { CloisterError } from "../../errors.js";
import { pass } from "../checks.js";
import type { Check } from "../types.js";
import { VerificationError } from "../verifier.js";
import type { TcbStatus } from "./policy.js";
import type { TcbInfo, TcbLevel, TdxModuleIdentity, TdxTcbInfo } from "./tcb-info.js";

export type { TcbStatus } from "./policy.js";

/**
 * Which TCB level of Intel's TCB info a platform is at, following Intel's Quote Verification
 * Library (SGX-TDX-DCAP-QuoteVerificationLibrary, Verifiers/Checks/TcbLevelCheck.cpp and
 * TdxModuleCheck.cpp, the "4.1.2.4.17" steps of the Intel TDX DCAP Quote Verification spec).
 * TCB levels are listed newest first; the platform is at the first one it is not below. A
 * platform below every level is not one Intel rates at all: that is a rejection, never a pass.
 * A Revoked level is a rejection too (Intel's QvE reports it as a terminal result).
 */

/** A status with the Intel security advisories (INTEL-SA-…) that explain it. */
export interface Assessed {
  readonly status: TcbStatus;
  readonly advisoryIds: readonly string[];
}

/** The SGX TCB of the platform, as its PCK certificate's SGX extension states it. */
export interface SgxTcbInput {
  /** SGX TCB components 01..16 (the CPUSVN bytes), each 0..255. */
  readonly cpuSvnComponents: readonly number[];
  readonly pceSvn: number;
}

/** The SGX TCB from the PCK certificate, and the TDX module's from the TD report body. */
export interface TdxTcbInput extends SgxTcbInput {
  /** TEE_TCB_SVN, 16 bytes: byte 0 the module's SVN, byte 1 its major version. */
  readonly teeTcbSvn: Uint8Array;
  /** MRSIGNERSEAM, 48 bytes (zero for Intel's own module). */
  readonly mrSignerSeam: Uint8Array;
  /** SEAMATTRIBUTES, 8 bytes. */
  readonly seamAttributes: Uint8Array;
}

/** The TDX module's own rating, from the tdxModuleIdentities entry for its major version. */
export interface ModuleEvaluation extends Assessed {
  /** "TDX_01", "TDX_03", …, as the TCB info spells it. */
  readonly id: string;
  readonly tcbDate: string;
}

export interface TcbEvaluation extends Assessed {
  /** The matched level's status and advisories, before convergence with the QE and module. */
  readonly status: TcbStatus;
  readonly tcbDate: string;
  /** TDX quotes whose TEE_TCB_SVN byte 1 is non-zero only. */
  readonly module?: ModuleEvaluation;
  /** Pass checks; every failure throws a VerificationError. */
  readonly checks: readonly Check[];
}

/** The SGX platform's TCB level: the first whose components and PCESVN the PCK's all reach. */
export function evaluateSgxTcb(info: TcbInfo, pck: SgxTcbInput): TcbEvaluation {
  requireTee(info, "SGX");
  checkSgxInput(pck);
  const level = info.tcbLevels.find((l) => sgxReaches(pck, l));
  if (level === undefined) {
    throw new VerificationError(
      "dcap.tcb.no_match",
      `The platform's TCB (${describeSgx(pck)}) is below every TCB level of the TCB info for FMSPC ${info.fmspc}: Intel does not rate it.`,
    );
  }
  refuseRevoked(level, "platform TCB");
  return {
    status: level.status,
    advisoryIds: level.advisoryIds,
    tcbDate: level.tcbDate,
    checks: [levelCheck(level, describeSgx(pck))],
  };
}

/**
 * The TDX platform's TCB level: the first level whose SGX components, PCESVN and TDX components
 * the platform all reach. When TEE_TCB_SVN byte 1 is non-zero the TDX module identity for that
 * major version rates the module by TEE_TCB_SVN byte 0, so the TDX components are compared from
 * index 2 on; the identity's MRSIGNER and attributes then replace the top-level tdxModule's
 * (QuoteVerifier.cpp, 4.1.2.4.11). Without it, all 16 are compared and tdxModule applies.
 */
export function evaluateTdxTcb(info: TcbInfo, input: TdxTcbInput): TcbEvaluation {
  requireTee(info, "TDX");
  checkSgxInput(input);
  checkTdxInput(input);
  const version = input.teeTcbSvn[1] as number;
  const identity = version === 0 ? undefined : moduleIdentity(info, version);
  const checks: Check[] = [moduleSignerCheck(info, identity, input)];

  const from = version === 0 ? 0 : 2;
  const sgxMatched = info.tcbLevels.filter((l) => sgxReaches(input, l));
  const level = sgxMatched.find((l) => tdxReaches(input.teeTcbSvn, l, from));
  if (level === undefined) {
    const which =
      sgxMatched.length === 0
        ? `SGX TCB (${describeSgx(input)})`
        : `TDX TCB (TEE_TCB_SVN ${toHex(input.teeTcbSvn)}, compared from byte ${from})`;
    throw new VerificationError(
      "dcap.tcb.no_match",
      `The platform's ${which} is below every TCB level of the TCB info for FMSPC ${info.fmspc}: Intel does not rate it.`,
    );
  }
  refuseRevoked(level, "platform TCB");
  checks.push(levelCheck(level, `${describeSgx(input)}, TEE_TCB_SVN ${toHex(input.teeTcbSvn)}`));

  if (identity === undefined) {
    return { status: level.status, advisoryIds: level.advisoryIds, tcbDate: level.tcbDate, checks };
  }
  const module = moduleLevel(identity, input.teeTcbSvn[0] as number);
  checks.push(
    pass(
      "dcap.tdx_module.tcb",
      `The TDX module (${identity.id}, SVN ${input.teeTcbSvn[0]}) is at its level of ${module.tcbDate}: ${module.status}${advisories(module.advisoryIds)}.`,
    ),
  );
  return {
    status: level.status,
    advisoryIds: level.advisoryIds,
    tcbDate: level.tcbDate,
    module,
    checks,
  };
}

/**
 * The final status, as Intel's QVL converges it (TcbLevelCheck.cpp
 * convergeTcbStatusWithQeTcbStatus, TdxModuleCheck.cpp convergeTcbStatusWithTdxModuleStatus):
 * the QE and the TDX module only ever rate themselves UpToDate, OutOfDate or Revoked (any other
 * status counts as OutOfDate, as EnclaveReportVerifier.cpp does). An out-of-date QE or module
 * makes an UpToDate or SWHardeningNeeded platform OutOfDate, and a ConfigurationNeeded or
 * ConfigurationAndSWHardeningNeeded platform OutOfDateConfigurationNeeded; a revoked one makes
 * it Revoked; otherwise the platform's status stands. The module is applied first, then the QE.
 * Advisory IDs are the union of all three, platform first, without repeats.
 */
export function convergeStatus(platform: Assessed, qe: Assessed, module?: Assessed): Assessed {
  const withModule = module === undefined ? platform.status : converge(platform.status, module);
  const advisoryIds = [
    ...new Set([...platform.advisoryIds, ...(module?.advisoryIds ?? []), ...qe.advisoryIds]),
  ];
  return { status: converge(withModule, qe), advisoryIds };
}

function converge(platform: TcbStatus, other: Assessed): TcbStatus {
  if (other.status === "UpToDate") return platform;
  if (other.status === "Revoked") return "Revoked";
  switch (platform) {
    case "UpToDate":
    case "SWHardeningNeeded":
      return "OutOfDate";
    case "ConfigurationNeeded":
    case "ConfigurationAndSWHardeningNeeded":
      return "OutOfDateConfigurationNeeded";
    default:
      return platform;
  }
}

function requireTee<T extends TcbInfo["id"]>(
  info: TcbInfo,
  tee: T,
): asserts info is Extract<TcbInfo, { id: T }> {
  if (info.id !== tee) {
    throw new VerificationError(
      "dcap.tcb_info.tee",
      `The TCB info is for ${info.id}, but the quote is ${tee === "TDX" ? "a TDX" : "an SGX"} quote: supply the ${tee} TCB info for FMSPC ${info.fmspc}.`,
    );
  }
}

/**
 * A component missing from the input would compare as "not below" and match any level, so the
 * shapes are checked rather than trusted.
 */
function checkSgxInput(pck: SgxTcbInput): void {
  if (pck.cpuSvnComponents.length !== 16 || !pck.cpuSvnComponents.every(isByte)) {
    throw new CloisterError("dcap.tcb.input", "The PCK's CPUSVN must be 16 components of 0..255.");
  }
  if (!Number.isInteger(pck.pceSvn) || pck.pceSvn < 0 || pck.pceSvn > 0xffff) {
    throw new CloisterError("dcap.tcb.input", "The PCK's PCESVN must be an integer of 0..65535.");
  }
}

function checkTdxInput(input: TdxTcbInput): void {
  if (
    input.teeTcbSvn.length !== 16 ||
    input.mrSignerSeam.length !== 48 ||
    input.seamAttributes.length !== 8
  ) {
    throw new CloisterError(
      "dcap.tcb.input",
      "TEE_TCB_SVN, MRSIGNERSEAM and SEAMATTRIBUTES must be 16, 48 and 8 bytes.",
    );
  }
}

function isByte(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 255;
}

function sgxReaches(pck: SgxTcbInput, level: TcbLevel): boolean {
  return (
    level.pceSvn <= pck.pceSvn &&
    level.sgxComponents.every((svn, i) => svn <= (pck.cpuSvnComponents[i] as number))
  );
}

function tdxReaches(teeTcbSvn: Uint8Array, level: TcbLevel, from: number): boolean {
  const components = level.tdxComponents;
  if (components === undefined) return false;
  for (let i = from; i < 16; i++) {
    if ((components[i] as number) > (teeTcbSvn[i] as number)) return false;
  }
  return true;
}

/** Intel names module identities "TDX_" and the major version as two upper-case hex digits. */
function moduleIdentity(info: TdxTcbInfo, version: number): TdxModuleIdentity {
  const id = `TDX_${version.toString(16).padStart(2, "0").toUpperCase()}`;
  const identity = info.tdxModuleIdentities?.find((m) => m.id.toUpperCase() === id);
  if (identity === undefined) {
    throw new VerificationError(
      "dcap.tdx_module.unknown",
      `The TD runs TDX module major version ${version}, but the TCB info has no identity ${id} for it.`,
    );
  }
  return identity;
}

function moduleSignerCheck(
  info: TdxTcbInfo,
  identity: TdxModuleIdentity | undefined,
  input: TdxTcbInput,
): Check {
  const expected = identity ?? info.tdxModule;
  const name =
    identity === undefined ? "the TCB info's tdxModule" : `module identity ${identity.id}`;
  if (toHex(input.mrSignerSeam) !== toHex(expected.mrSigner)) {
    throw new VerificationError(
      "dcap.tdx_module.mismatch",
      `MRSIGNERSEAM ${toHex(input.mrSignerSeam).slice(0, 16)}… is not the signer ${name} names: the TD does not run a TDX module Intel rates.`,
    );
  }
  const mask = expected.attributesMask;
  const differs = input.seamAttributes.some(
    (b, i) =>
      (b & (mask[i] as number)) !== ((expected.attributes[i] as number) & (mask[i] as number)),
  );
  if (differs) {
    throw new VerificationError(
      "dcap.tdx_module.mismatch",
      `SEAMATTRIBUTES ${toHex(input.seamAttributes)} do not match ${name} (${toHex(expected.attributes)} under mask ${toHex(mask)}).`,
    );
  }
  return pass("dcap.tdx_module.identity", `MRSIGNERSEAM and SEAMATTRIBUTES match ${name}.`);
}

function moduleLevel(identity: TdxModuleIdentity, svn: number): ModuleEvaluation {
  const level = identity.tcbLevels.find((l) => l.isvSvn <= svn);
  if (level === undefined) {
    throw new VerificationError(
      "dcap.tdx_module.no_match",
      `The TDX module's SVN ${svn} is below every TCB level of module identity ${identity.id}: Intel does not rate it.`,
    );
  }
  if (level.status === "Revoked") {
    throw new VerificationError(
      "dcap.tdx_module.revoked",
      `Intel rates TDX module ${identity.id} at SVN ${svn} Revoked${advisories(level.advisoryIds)}: nothing it reports can be trusted.`,
    );
  }
  return {
    id: identity.id,
    status: level.status,
    advisoryIds: level.advisoryIds,
    tcbDate: level.tcbDate,
  };
}

function refuseRevoked(level: TcbLevel, what: string): void {
  if (level.status === "Revoked") {
    throw new VerificationError(
      "dcap.tcb.revoked",
      `Intel rates this ${what} (level of ${level.tcbDate}) Revoked${advisories(level.advisoryIds)}: nothing it reports can be trusted.`,
    );
  }
}

function levelCheck(level: TcbLevel, platform: string): Check {
  return pass(
    "dcap.tcb.level",
    `The platform (${platform}) is at the TCB level of ${level.tcbDate}: ${level.status}${advisories(level.advisoryIds)}.`,
  );
}

function describeSgx(pck: SgxTcbInput): string {
  return `CPUSVN ${pck.cpuSvnComponents.join(".")}, PCESVN ${pck.pceSvn}`;
}

export function advisories(ids: readonly string[]): string {
  return ids.length === 0 ? "" : ` (${ids.join(", ")})`;
}
