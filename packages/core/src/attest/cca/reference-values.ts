import { invalidSetting, settingList, settingObject } from "../policy-settings.js";

/**
 * Reference values for CCA appraisal, in the JSON shape Veraison's and Trustee's CCA reference
 * value stores use (rv.json, rvstore.json): {"platform": [...], "realm": [...]}. Each entry is one
 * acceptable state; evidence matches when it equals one of them. Hex compares lower-case.
 */
export interface CcaReferenceValues {
  readonly platform: readonly CcaPlatformReference[];
  readonly realm: readonly CcaRealmReference[];
}

/** One good firmware state of the platform with this implementation ID. */
export interface CcaPlatformReference {
  readonly implementationId: string;
  /** Absent: any configuration. */
  readonly config?: string;
  /** The whole set of measured components: none may be missing and none extra. */
  readonly softwareComponents: readonly CcaComponentReference[];
}

export interface CcaComponentReference {
  readonly measurement: string;
  /** Absent fields match any value. */
  readonly type?: string;
  readonly signerId?: string;
  readonly version?: string;
}

/** One good realm: its initial measurement and, where given, the rest. */
export interface CcaRealmReference {
  readonly rim: string;
  readonly rems?: readonly string[];
  readonly personalizationValue?: string;
  /** The hash algorithm the platform challenge must use for the RAK (claim 44240). */
  readonly rakHashAlgorithm?: string;
}

/** Parses the store JSON (already JSON.parse'd); a wrong shape is "policy.invalid" naming the setting. */
export function parseCcaReferenceValues(value: unknown, name: string): CcaReferenceValues {
  const store = settingObject(value, name);
  known(store, name, ["platform", "realm"]);
  return {
    platform: list(store.platform, `${name}.platform`).map((entry, i) =>
      platformReference(entry, `${name}.platform[${i}]`),
    ),
    realm: list(store.realm, `${name}.realm`).map((entry, i) =>
      realmReference(entry, `${name}.realm[${i}]`),
    ),
  };
}

function platformReference(value: unknown, name: string): CcaPlatformReference {
  const entry = settingObject(value, name);
  known(entry, name, ["implementation-id", "platform-configuration", "sw-components"]);
  const config = entry["platform-configuration"];
  return {
    implementationId: hex(entry["implementation-id"], `${name}.implementation-id`),
    ...(config === undefined ? {} : { config: hex(config, `${name}.platform-configuration`) }),
    softwareComponents: settingList(entry["sw-components"], `${name}.sw-components`).map(
      (component, i) => componentReference(component, `${name}.sw-components[${i}]`),
    ),
  };
}

function componentReference(value: unknown, name: string): CcaComponentReference {
  const entry = settingObject(value, name);
  known(entry, name, ["measurement-value", "component-type", "signer-id", "version"]);
  const { "component-type": type, "signer-id": signerId, version } = entry;
  return {
    measurement: hex(entry["measurement-value"], `${name}.measurement-value`),
    ...(type === undefined ? {} : { type: text(type, `${name}.component-type`) }),
    ...(signerId === undefined ? {} : { signerId: hex(signerId, `${name}.signer-id`) }),
    ...(version === undefined ? {} : { version: text(version, `${name}.version`) }),
  };
}

function realmReference(value: unknown, name: string): CcaRealmReference {
  const entry = settingObject(value, name);
  known(entry, name, [
    "initial-measurement",
    "extensible-measurements",
    "personalization-value",
    "rak-hash-algorithm",
  ]);
  const rems = entry["extensible-measurements"];
  const pv = entry["personalization-value"];
  const rak = entry["rak-hash-algorithm"];
  if (rems !== undefined && (!Array.isArray(rems) || rems.length !== 4)) {
    invalidSetting(`${name}.extensible-measurements`, "must list the four REMs");
  }
  return {
    rim: hex(entry["initial-measurement"], `${name}.initial-measurement`),
    ...(rems === undefined
      ? {}
      : { rems: rems.map((rem, i) => hex(rem, `${name}.extensible-measurements[${i}]`)) }),
    ...(pv === undefined ? {} : { personalizationValue: hex(pv, `${name}.personalization-value`) }),
    ...(rak === undefined ? {} : { rakHashAlgorithm: text(rak, `${name}.rak-hash-algorithm`) }),
  };
}

function list(value: unknown, name: string): readonly unknown[] {
  return value === undefined ? [] : settingList(value, name);
}

function hex(value: unknown, name: string): string {
  if (typeof value !== "string" || !/^([0-9a-fA-F]{2})+$/.test(value)) {
    invalidSetting(name, "must be hex");
  }
  return value.toLowerCase();
}

function text(value: unknown, name: string): string {
  if (typeof value !== "string") invalidSetting(name, "must be a string");
  return value;
}

function known(entry: Record<string, unknown>, name: string, keys: readonly string[]): void {
  for (const key of Object.keys(entry)) {
    if (!keys.includes(key))
      invalidSetting(`${name}.${key}`, `is not a known key (${keys.join(", ")})`);
  }
}
