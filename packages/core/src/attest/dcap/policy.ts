import { hexSettingList, invalidSetting, settingList, settingObject } from "../policy-settings.js";

/** Intel's TCB statuses, spelt as Intel spells them. */
export const TCB_STATUSES = [
  "UpToDate",
  "SWHardeningNeeded",
  "ConfigurationNeeded",
  "ConfigurationAndSWHardeningNeeded",
  "OutOfDate",
  "OutOfDateConfigurationNeeded",
  "Revoked",
] as const;

export type TcbStatus = (typeof TCB_STATUSES)[number];

/**
 * Rules on the Intel collateral shared by TDX and SGX. By default only UpToDate platforms are
 * accepted, and collateral must be current at the verification time.
 */
export interface DcapPolicy {
  /**
   * TCB statuses accepted. Default ["UpToDate"]. An accepted status other than UpToDate is
   * reported as a named warning, never silently passed.
   */
  readonly tcbStatuses?: readonly TcbStatus[];
  /** Advisory IDs (e.g. "INTEL-SA-00615") that refuse the platform whatever its status. */
  readonly deniedAdvisoryIds?: readonly string[];
  /** Intel's TCB recovery counter: refuse collateral older than this evaluation data number. */
  readonly minimumTcbEvaluationDataNumber?: number;
  /** Refuse TCB info / QE identity issued longer ago than this many days. */
  readonly maxCollateralAgeDays?: number;
}

/** TDX trust-domain rules; the common `measurements` pin MRTD. */
export interface TdxPolicy {
  /** Allowed values per runtime measurement register, e.g. {"rtmr1": ["…"]}. */
  readonly rtmrs?: Readonly<
    Partial<Record<"rtmr0" | "rtmr1" | "rtmr2" | "rtmr3", readonly string[]>>
  >;
  /** Allowed TDX module measurements (MRSEAM). */
  readonly mrSeams?: readonly string[];
  readonly mrConfigIds?: readonly string[];
  readonly mrOwners?: readonly string[];
  readonly mrOwnerConfigs?: readonly string[];
  /** Allowed XFAM values (which CPU extended features the TD may use), hex of the 8 bytes. */
  readonly xfams?: readonly string[];
  /** Allowed TD_ATTRIBUTES values, hex of the 8 bytes (the DEBUG bit is refused by allowDebug). */
  readonly tdAttributes?: readonly string[];
  /** The event log must have been replayed against RTMR0–2 (needs the CCEL as collateral). */
  readonly requireEventLog?: boolean;
  /** Allowed kernel command lines, as the event log records them. */
  readonly kernelCmdlines?: readonly string[];
}

/** SGX enclave rules; the common `measurements` pin MRENCLAVE. */
export interface SgxPolicy {
  readonly mrSigners?: readonly string[];
  readonly isvProdIds?: readonly number[];
  readonly minimumIsvSvn?: number;
}

const RTMRS = ["rtmr0", "rtmr1", "rtmr2", "rtmr3"] as const;

export function parseDcapPolicy(value: unknown): DcapPolicy {
  const section = settingObject(value, "dcap");
  known(section, "dcap", [
    "tcbStatuses",
    "deniedAdvisoryIds",
    "minimumTcbEvaluationDataNumber",
    "maxCollateralAgeDays",
  ]);
  if (section.tcbStatuses !== undefined) {
    for (const status of settingList(section.tcbStatuses, "dcap.tcbStatuses")) {
      if (!TCB_STATUSES.includes(status as TcbStatus)) {
        invalidSetting("dcap.tcbStatuses", `must list statuses among ${TCB_STATUSES.join(", ")}`);
      }
    }
  }
  if (section.deniedAdvisoryIds !== undefined) {
    for (const id of settingList(section.deniedAdvisoryIds, "dcap.deniedAdvisoryIds")) {
      if (typeof id !== "string" || !/^INTEL-[A-Z]+-\d+$/.test(id)) {
        invalidSetting("dcap.deniedAdvisoryIds", 'must list IDs like "INTEL-SA-00615"');
      }
    }
  }
  counter(section.minimumTcbEvaluationDataNumber, "dcap.minimumTcbEvaluationDataNumber");
  counter(section.maxCollateralAgeDays, "dcap.maxCollateralAgeDays");
  return section as DcapPolicy;
}

export function parseTdxPolicy(value: unknown): TdxPolicy {
  const section = settingObject(value, "tdx");
  known(section, "tdx", [
    "rtmrs",
    "mrSeams",
    "mrConfigIds",
    "mrOwners",
    "mrOwnerConfigs",
    "xfams",
    "tdAttributes",
    "requireEventLog",
    "kernelCmdlines",
  ]);
  if (section.rtmrs !== undefined) {
    const rtmrs = settingObject(section.rtmrs, "tdx.rtmrs");
    known(rtmrs, "tdx.rtmrs", RTMRS);
    for (const [name, values] of Object.entries(rtmrs)) hexSettingList(values, `tdx.rtmrs.${name}`);
  }
  for (const key of [
    "mrSeams",
    "mrConfigIds",
    "mrOwners",
    "mrOwnerConfigs",
    "xfams",
    "tdAttributes",
  ]) {
    if (section[key] !== undefined) hexSettingList(section[key], `tdx.${key}`);
  }
  if (section.requireEventLog !== undefined && typeof section.requireEventLog !== "boolean") {
    invalidSetting("tdx.requireEventLog", "must be true or false");
  }
  if (section.kernelCmdlines !== undefined) {
    for (const line of settingList(section.kernelCmdlines, "tdx.kernelCmdlines")) {
      if (typeof line !== "string")
        invalidSetting("tdx.kernelCmdlines", "must be a list of strings");
    }
  }
  return section as TdxPolicy;
}

export function parseSgxPolicy(value: unknown): SgxPolicy {
  const section = settingObject(value, "sgx");
  known(section, "sgx", ["mrSigners", "isvProdIds", "minimumIsvSvn"]);
  if (section.mrSigners !== undefined) hexSettingList(section.mrSigners, "sgx.mrSigners");
  if (section.isvProdIds !== undefined) {
    for (const id of settingList(section.isvProdIds, "sgx.isvProdIds")) {
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > 0xffff) {
        invalidSetting("sgx.isvProdIds", "must list integers from 0 to 65535");
      }
    }
  }
  const svn = section.minimumIsvSvn;
  if (
    svn !== undefined &&
    (typeof svn !== "number" || !Number.isInteger(svn) || svn < 0 || svn > 0xffff)
  ) {
    invalidSetting("sgx.minimumIsvSvn", "must be an integer from 0 to 65535");
  }
  return section as SgxPolicy;
}

function known(section: Record<string, unknown>, name: string, keys: readonly string[]): void {
  for (const key of Object.keys(section)) {
    if (!keys.includes(key))
      invalidSetting(`${name}.${key}`, `is not a known setting (${keys.join(", ")})`);
  }
}

function counter(value: unknown, name: string): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    invalidSetting(name, "must be a non-negative integer");
  }
}
