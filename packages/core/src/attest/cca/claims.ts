import { decode } from "cbor2";
import { toHex } from "../../bytes.js";
import { ParseError } from "../../errors.js";

/**
 * The claims of the two CCA tokens (Arm CCA RMM spec A7.2, draft-ffm-rats-cca-token), checked
 * for shape. They are parsed before the signatures are checked only to pick the trust anchor;
 * nothing here is trusted until verify.ts has checked both signatures and the binding.
 */

const INVALID = "cca.claims.invalid";

const PLATFORM = {
  challenge: 10,
  instanceId: 256,
  profile: 265,
  lifecycle: 2395,
  implementationId: 2396,
  softwareComponents: 2399,
  verificationService: 2400,
  config: 2401,
  hashAlgorithm: 2402,
} as const;

const SW_COMPONENT = {
  type: 1,
  measurement: 2,
  version: 4,
  signerId: 5,
  hashAlgorithm: 6,
} as const;

const REALM = {
  challenge: 10,
  profile: 265,
  personalizationValue: 44235,
  hashAlgorithm: 44236,
  publicKey: 44237,
  rim: 44238,
  rems: 44239,
  publicKeyHashAlgorithm: 44240,
} as const;

/** The legacy (RMM 1.0 EAC5) and draft-ffm profile names of each token. */
const PLATFORM_PROFILES = ["http://arm.com/CCA-SSD/1.0.0", "tag:arm.com,2023:cca_platform#1.0.0"];
const REALM_PROFILES = ["tag:arm.com,2023:realm#1.0.0"];

/** Digest sizes a CCA measurement or challenge may have (SHA-256, SHA-384, SHA-512). */
const DIGEST_SIZES = [32, 48, 64];

/** PSA security lifecycle states (PSA attestation token, §4.2.4): the high byte names the state. */
const LIFECYCLES = [
  [0x00, "unknown"],
  [0x10, "assembly-and-test"],
  [0x20, "psa-rot-provisioning"],
  [0x30, "secured"],
  [0x40, "non-psa-rot-debug"],
  [0x50, "recoverable-psa-rot-debug"],
  [0x60, "decommissioned"],
] as const;

export type CcaLifecycleName = (typeof LIFECYCLES)[number][1];

export const CCA_LIFECYCLE_NAMES: readonly CcaLifecycleName[] = LIFECYCLES.map(([, n]) => n);

/** The states in which a debugger can reach the platform's or the realm's secrets. */
const DEBUG_LIFECYCLES: readonly CcaLifecycleName[] = [
  "non-psa-rot-debug",
  "recoverable-psa-rot-debug",
];

export interface CcaSoftwareComponent {
  readonly type?: string;
  /** Lower-case hex, as all byte values in these claims. */
  readonly measurement: string;
  readonly version?: string;
  readonly signerId: string;
  readonly hashAlgorithm?: string;
}

/** The platform token's claims, JSON-ready. */
export interface CcaPlatformTokenClaims {
  readonly profile: string;
  /** The hash of the RAK (claim 44237) under the realm's public-key hash algorithm. */
  readonly challenge: string;
  readonly implementationId: string;
  readonly instanceId: string;
  readonly config: string;
  readonly lifecycle: { readonly value: number; readonly name: CcaLifecycleName };
  readonly softwareComponents: readonly CcaSoftwareComponent[];
  readonly verificationService?: string;
  readonly hashAlgorithm: string;
}

/** The realm token's claims, JSON-ready. */
export interface CcaRealmTokenClaims {
  readonly profile?: string;
  /** The 64 bytes the realm asked to be attested (its report data). */
  readonly challenge: string;
  readonly personalizationValue: string;
  /** Realm initial measurement. */
  readonly rim: string;
  /** The four realm extensible measurements. */
  readonly rems: readonly [string, string, string, string];
  /** The algorithm of the RIM and REMs. */
  readonly hashAlgorithm: string;
  /** The RAK exactly as claim 44237 carries it: an EC point or a COSE_Key. */
  readonly publicKey: string;
  /** The algorithm the platform challenge hashes the RAK with. */
  readonly publicKeyHashAlgorithm: string;
}

/** What Claims.platformClaims holds for CCA. */
export interface CcaPlatformClaims {
  readonly platform: CcaPlatformTokenClaims;
  readonly realm: CcaRealmTokenClaims;
}

export function ccaLifecycleName(value: number): CcaLifecycleName | undefined {
  return LIFECYCLES.find(([high]) => value >>> 8 === high)?.[1];
}

export function isCcaDebugLifecycle(name: CcaLifecycleName): boolean {
  return DEBUG_LIFECYCLES.includes(name);
}

export function parseCcaPlatformClaims(payload: Uint8Array): CcaPlatformTokenClaims {
  const map = claimsMap(payload, "platform");
  const field = (name: keyof typeof PLATFORM) => `platform.${name} (${PLATFORM[name]})`;
  const profile = text(map.get(PLATFORM.profile), field("profile"));
  if (!PLATFORM_PROFILES.includes(profile)) {
    throw new ParseError(INVALID, field("profile"), `names an unknown profile ${short(profile)}`);
  }
  const lifecycleValue = map.get(PLATFORM.lifecycle);
  if (typeof lifecycleValue !== "number" || !Number.isInteger(lifecycleValue)) {
    throw new ParseError(INVALID, field("lifecycle"), "is not an unsigned integer");
  }
  const name = lifecycleValue >= 0 ? ccaLifecycleName(lifecycleValue) : undefined;
  if (name === undefined || lifecycleValue > 0xffff) {
    throw new ParseError(
      INVALID,
      field("lifecycle"),
      `${lifecycleValue} is no PSA lifecycle state`,
    );
  }
  const components = map.get(PLATFORM.softwareComponents);
  if (!Array.isArray(components) || components.length === 0) {
    throw new ParseError(INVALID, field("softwareComponents"), "is not a non-empty array");
  }
  const instanceId = bytes(map.get(PLATFORM.instanceId), field("instanceId"), [33]);
  if (instanceId[0] !== 0x01) {
    throw new ParseError(INVALID, field("instanceId"), "is not a random UEID (type 0x01)");
  }
  const service = map.get(PLATFORM.verificationService);
  return {
    profile,
    challenge: hex(map.get(PLATFORM.challenge), field("challenge"), DIGEST_SIZES),
    implementationId: hex(map.get(PLATFORM.implementationId), field("implementationId"), [32]),
    instanceId: toHex(instanceId),
    config: hex(map.get(PLATFORM.config), field("config")),
    lifecycle: { value: lifecycleValue, name },
    softwareComponents: components.map((c, i) =>
      softwareComponent(c, `platform.swComponents[${i}]`),
    ),
    ...(service === undefined
      ? {}
      : { verificationService: text(service, field("verificationService")) }),
    hashAlgorithm: text(map.get(PLATFORM.hashAlgorithm), field("hashAlgorithm")),
  };
}

export function parseCcaRealmClaims(payload: Uint8Array): CcaRealmTokenClaims {
  const map = claimsMap(payload, "realm");
  const field = (name: keyof typeof REALM) => `realm.${name} (${REALM[name]})`;
  const profile = map.get(REALM.profile);
  if (profile !== undefined && !REALM_PROFILES.includes(text(profile, field("profile")))) {
    throw new ParseError(INVALID, field("profile"), "names an unknown profile");
  }
  const rems = map.get(REALM.rems);
  if (!Array.isArray(rems) || rems.length !== 4) {
    throw new ParseError(INVALID, field("rems"), "is not an array of four measurements");
  }
  return {
    ...(profile === undefined ? {} : { profile: profile as string }),
    challenge: hex(map.get(REALM.challenge), field("challenge"), [64]),
    personalizationValue: hex(
      map.get(REALM.personalizationValue),
      field("personalizationValue"),
      [64],
    ),
    rim: hex(map.get(REALM.rim), field("rim"), DIGEST_SIZES),
    rems: rems.map((rem, i) => hex(rem, `realm.rems[${i}]`, DIGEST_SIZES)) as unknown as [
      string,
      string,
      string,
      string,
    ],
    hashAlgorithm: text(map.get(REALM.hashAlgorithm), field("hashAlgorithm")),
    publicKey: hex(map.get(REALM.publicKey), field("publicKey")),
    publicKeyHashAlgorithm: text(
      map.get(REALM.publicKeyHashAlgorithm),
      field("publicKeyHashAlgorithm"),
    ),
  };
}

function softwareComponent(value: unknown, field: string): CcaSoftwareComponent {
  if (!(value instanceof Map)) throw new ParseError(INVALID, field, "is not a map");
  const optional = (key: number, name: string) => {
    const item = value.get(key);
    return item === undefined ? {} : { [name]: text(item, `${field}.${name}`) };
  };
  return {
    ...optional(SW_COMPONENT.type, "type"),
    measurement: hex(value.get(SW_COMPONENT.measurement), `${field}.measurement`, DIGEST_SIZES),
    ...optional(SW_COMPONENT.version, "version"),
    signerId: hex(value.get(SW_COMPONENT.signerId), `${field}.signerId`, DIGEST_SIZES),
    ...optional(SW_COMPONENT.hashAlgorithm, "hashAlgorithm"),
  };
}

function claimsMap(payload: Uint8Array, field: string): Map<unknown, unknown> {
  let map: unknown;
  try {
    map = decode(payload, { preferMap: true });
  } catch {
    throw new ParseError("cca.token.malformed", field, "claims are not well-formed CBOR");
  }
  if (!(map instanceof Map)) throw new ParseError(INVALID, field, "claims are not a CBOR map");
  return map;
}

function bytes(value: unknown, field: string, sizes?: readonly number[]): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new ParseError(INVALID, field, "is missing or not a byte string");
  }
  if (sizes !== undefined && !sizes.includes(value.length)) {
    throw new ParseError(INVALID, field, `is ${value.length} bytes, not ${sizes.join(" or ")}`);
  }
  return value;
}

function hex(value: unknown, field: string, sizes?: readonly number[]): string {
  return toHex(bytes(value, field, sizes));
}

function text(value: unknown, field: string): string {
  if (typeof value !== "string") throw new ParseError(INVALID, field, "is missing or not text");
  return value;
}

function short(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}
