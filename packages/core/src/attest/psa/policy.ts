import { invalidSetting, settingList, settingObject } from "../policy-settings.js";

/** A reference value for one software component; type and signer are checked when given. */
export interface PsaSwComponentReference {
  readonly measurementType?: string;
  /** Hex of the component's measurement value. */
  readonly measurementValue: string;
  /** Hex of the component's signer ID. */
  readonly signerId?: string;
}

/**
 * Arm PSA rules on top of the common policy (measurements pin the software-component digest,
 * hardwareIds the instance ID, allowDebug the debug lifecycle states). The nonce is bound through
 * the common expected report data: the nonce, zero-padded to 64 bytes.
 */
export interface PsaPolicy {
  /** Allowed implementation IDs (hex of 32 bytes): which PSA RoT implementations are trusted. */
  readonly implementationIds?: readonly string[];
  /** Allowed instance IDs (hex of 33 bytes). */
  readonly instanceIds?: readonly string[];
  /** Every software component the token reports must match one of these. */
  readonly softwareComponents?: readonly PsaSwComponentReference[];
  /**
   * Only a RoT in the "secured" lifecycle state (0x3000–0x30ff) has its keys and debug locked
   * down; every other state is refused unless this is false. Default true.
   */
  readonly requireSecuredLifecycle?: boolean;
}

const KEYS = [
  "implementationIds",
  "instanceIds",
  "softwareComponents",
  "requireSecuredLifecycle",
] as const;
const COMPONENT_KEYS = ["measurementType", "measurementValue", "signerId"] as const;

/** Checks a `psa` policy section read from JSON; every mistake is named. Hex is lower-cased. */
export function parsePsaPolicy(value: unknown): PsaPolicy {
  const section = settingObject(value, "psa");
  for (const key of Object.keys(section)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      invalidSetting(`psa.${key}`, `is not a known setting (${KEYS.join(", ")})`);
    }
  }
  const required = section.requireSecuredLifecycle;
  if (required !== undefined && typeof required !== "boolean") {
    invalidSetting("psa.requireSecuredLifecycle", "must be true or false");
  }
  return {
    ...(section.implementationIds === undefined
      ? {}
      : { implementationIds: hexes(section.implementationIds, "psa.implementationIds", [32]) }),
    ...(section.instanceIds === undefined
      ? {}
      : { instanceIds: hexes(section.instanceIds, "psa.instanceIds", [33]) }),
    ...(section.softwareComponents === undefined
      ? {}
      : { softwareComponents: components(section.softwareComponents) }),
    ...(required === undefined ? {} : { requireSecuredLifecycle: required as boolean }),
  };
}

function components(value: unknown): PsaSwComponentReference[] {
  return settingList(value, "psa.softwareComponents").map((item, i) => {
    const name = `psa.softwareComponents[${i}]`;
    const entry = settingObject(item, name);
    for (const key of Object.keys(entry)) {
      if (!(COMPONENT_KEYS as readonly string[]).includes(key)) {
        invalidSetting(`${name}.${key}`, `is not a known field (${COMPONENT_KEYS.join(", ")})`);
      }
    }
    const type = entry.measurementType;
    if (type !== undefined && typeof type !== "string") {
      invalidSetting(`${name}.measurementType`, "must be a string");
    }
    if (entry.measurementValue === undefined) {
      invalidSetting(`${name}.measurementValue`, "is required");
    }
    const [measurementValue] = hexes([entry.measurementValue], `${name}.measurementValue`);
    const signer =
      entry.signerId === undefined ? undefined : hexes([entry.signerId], `${name}.signerId`)[0];
    return {
      ...(type === undefined ? {} : { measurementType: type as string }),
      measurementValue: measurementValue as string,
      ...(signer === undefined ? {} : { signerId: signer }),
    };
  });
}

/** Hex strings of PSA hash sizes (or the given sizes), lower-cased. */
function hexes(value: unknown, name: string, sizes: readonly number[] = [32, 48, 64]): string[] {
  return settingList(value, name).map((item) => {
    if (
      typeof item !== "string" ||
      !/^[0-9a-fA-F]*$/.test(item) ||
      !sizes.includes(item.length / 2)
    ) {
      invalidSetting(name, `must hold hex strings of ${sizes.join(", ")} bytes`);
    }
    return item.toLowerCase();
  });
}
