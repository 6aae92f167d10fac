import { readFile } from "node:fs/promises";
import {
  CloisterError,
  ecPublicJwk,
  fromHex,
  type KeyInput,
  PSA_ENDORSEMENTS_INVALID,
  parsePsaEndorsements,
  psaInstanceIdOf,
  toHex,
} from "@cloister/core";
import { writeFileAtomic } from "../tee/atomic-file.js";

/**
 * The enrolled devices: each PSA Initial Attestation Key (IAK) bound to the instance ID it was
 * provisioned into. The file is exactly a PSA endorsement store (collateral
 * "psa_endorsements"), so a verifier reads it as is:
 *   {"keys": [{"instanceId": "01…", "key": {JWK}, "label": "…", "enrolledAt": "…"}]}
 * The server reads it on every release, so enrolling a device needs no restart.
 */
export interface EnrolledDevice {
  readonly instanceId: string;
  readonly key: JsonWebKey;
  readonly label?: string;
  readonly enrolledAt: string;
}

export interface EnrollOptions {
  /** The device's instance ID (hex); by default derived from the key as TF-M does. */
  readonly instanceId?: string;
  readonly label?: string;
  /** Replace the key of an instance already enrolled. */
  readonly replace?: boolean;
  readonly now?: Date;
}

export const DEVICE_REGISTRY_INVALID = "device.registry.invalid";

/** The registry's text, checked; a missing file is an empty registry. */
export async function readDeviceRegistry(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return '{"keys":[]}';
    throw new CloisterError(
      DEVICE_REGISTRY_INVALID,
      `The device registry ${path} cannot be read (${(error as Error).message}).`,
    );
  }
  const parsed = parsePsaEndorsements(text);
  if (parsed.kind !== "store") {
    throw new CloisterError(
      DEVICE_REGISTRY_INVALID,
      `The device registry ${path} holds a single key, not {"keys": [...]} bound to instance IDs.`,
    );
  }
  return text;
}

export async function listDevices(path: string): Promise<EnrolledDevice[]> {
  const text = await readDeviceRegistry(path);
  return (JSON.parse(text) as { keys: EnrolledDevice[] }).keys;
}

/** Adds a device's IAK to the registry (written atomically). */
export async function enrollDevice(
  path: string,
  key: KeyInput,
  options: EnrollOptions = {},
): Promise<EnrolledDevice> {
  const jwk = ecPublicJwk(key, "key", PSA_ENDORSEMENTS_INVALID);
  const instanceId = options.instanceId?.toLowerCase() ?? toHex(await psaInstanceIdOf(jwk));
  const id = fromHex(instanceId);
  if (id === undefined || id.length !== 33 || id[0] !== 0x01) {
    throw new CloisterError(
      PSA_ENDORSEMENTS_INVALID,
      "The instance ID must be the hex of 33 bytes starting 01 (EUID type RAND).",
    );
  }
  const devices = await listDevices(path);
  const existing = devices.findIndex((d) => d.instanceId.toLowerCase() === instanceId);
  if (existing >= 0 && options.replace !== true) {
    throw new CloisterError(
      "device.enroll.exists",
      `Instance ${instanceId.slice(0, 16)}… is already enrolled; pass --replace to change its key.`,
    );
  }
  const device: EnrolledDevice = {
    instanceId,
    key: jwk,
    ...(options.label === undefined ? {} : { label: options.label }),
    enrolledAt: (options.now ?? new Date()).toISOString(),
  };
  const next =
    existing >= 0 ? devices.map((d, i) => (i === existing ? device : d)) : [...devices, device];
  const text = `${JSON.stringify({ keys: next }, null, 2)}\n`;
  // Check what is about to be written the way a verifier will read it.
  parsePsaEndorsements(text);
  await writeFileAtomic(path, text, 0o644);
  return device;
}
