import { decode } from "cbor2";
import { ParseError } from "../../errors.js";

/**
 * The claims of an Arm PSA attestation token (RFC 9783) and their validation per profile. The
 * rules follow RFC 9783 and its reference verifier (veraison/psatoken), so that a claim set one
 * accepts the other accepts too: both the CBOR payload of a token and the JSON form of a claim
 * set (psatoken's test corpus) go through the same checks.
 */

/** The legacy profile (draft-tschofenig-rats-psa-token-07 and earlier), private claim keys. */
export const PSA_PROFILE_1 = "PSA_IOT_PROFILE_1";
/** The EAT-based profile of draft -08 and later, as TF-M emits it. */
export const PSA_PROFILE_2 = "http://arm.com/psa/2.0.0";
/** RFC 9783's own profile name: the P2 claims under the same rules. */
export const PSA_PROFILE_RFC9783 = "tag:psacertified.org,2023:psa#tfm";

export const PSA_PROFILES = [PSA_PROFILE_1, PSA_PROFILE_2, PSA_PROFILE_RFC9783] as const;
export type PsaProfile = (typeof PSA_PROFILES)[number];

export interface PsaSwComponent {
  readonly measurementType?: string;
  /** psa-hash-type: 32, 48 or 64 bytes. */
  readonly measurementValue: Uint8Array;
  readonly version?: string;
  /** Hash of the key that signed the component, psa-hash-type. */
  readonly signerId: Uint8Array;
  readonly measurementDescription?: string;
}

/** A claim set that passed its profile's validation. */
export interface PsaClaims {
  readonly profile: PsaProfile;
  readonly clientId: number;
  readonly securityLifecycle: number;
  /** 32 bytes naming the immutable PSA RoT implementation. */
  readonly implementationId: Uint8Array;
  /** Mandatory in P1 (32 bytes), optional in P2 (8 to 32 bytes). */
  readonly bootSeed?: Uint8Array;
  /**
   * P1's psa-hwver (-75005, EAN-13 or EAN-13+5) or P2's certification reference (2398, EAN-13+5).
   * P1 calls it the hardware version; psatoken validates both as a certification reference.
   */
  readonly certificationReference?: string;
  /** Absent only in P1 when the token asserts psa-no-sw-measurements instead. */
  readonly softwareComponents?: readonly PsaSwComponent[];
  /** psa-hash-type: 32, 48 or 64 bytes. */
  readonly nonce: Uint8Array;
  /** 0x01 (EUID type RAND) followed by a 32-byte hash of the IAK: 33 bytes. */
  readonly instanceId: Uint8Array;
  readonly verificationService?: string;
}

/** The RoT's lifecycle states; the low byte of the value is implementation-defined. */
export const PSA_LIFECYCLE_STATES = [
  "unknown",
  "assembly-and-test",
  "psa-rot-provisioning",
  "secured",
  "non-psa-rot-debug",
  "recoverable-psa-rot-debug",
  "decommissioned",
] as const;
export type PsaLifecycleState = (typeof PSA_LIFECYCLE_STATES)[number];

/** The state of a lifecycle value (major state in the high byte), or undefined when it has none. */
export function psaLifecycleState(value: number): PsaLifecycleState | undefined {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff || (value & 0x0f00) !== 0) {
    return undefined;
  }
  return PSA_LIFECYCLE_STATES[value >> 12];
}

export const PSA_TOKEN_MALFORMED = "psa.token.malformed";
export const PSA_CLAIMS_INVALID = "psa.claims.invalid";

type ClaimName =
  | "profile"
  | "clientId"
  | "securityLifecycle"
  | "implementationId"
  | "bootSeed"
  | "certificationReference"
  | "softwareComponents"
  | "noSoftwareMeasurements"
  | "nonce"
  | "instanceId"
  | "verificationService";

/** Where a claim lives: its CBOR key and its JSON name (which error messages use). */
type Layout = Readonly<Partial<Record<ClaimName, readonly [number, string]>>>;

const P1_LAYOUT: Layout = {
  profile: [-75000, "psa-profile"],
  clientId: [-75001, "psa-client-id"],
  securityLifecycle: [-75002, "psa-security-lifecycle"],
  implementationId: [-75003, "psa-implementation-id"],
  bootSeed: [-75004, "psa-boot-seed"],
  certificationReference: [-75005, "psa-hwver"],
  softwareComponents: [-75006, "psa-software-components"],
  noSoftwareMeasurements: [-75007, "psa-no-software-measurements"],
  nonce: [-75008, "psa-nonce"],
  instanceId: [-75009, "psa-instance-id"],
  verificationService: [-75010, "psa-verification-service-indicator"],
};

const P2_LAYOUT: Layout = {
  profile: [265, "eat-profile"],
  clientId: [2394, "psa-client-id"],
  securityLifecycle: [2395, "psa-security-lifecycle"],
  implementationId: [2396, "psa-implementation-id"],
  bootSeed: [2397, "psa-boot-seed"],
  certificationReference: [2398, "psa-certification-reference"],
  softwareComponents: [2399, "psa-software-components"],
  nonce: [10, "eat-nonce"],
  instanceId: [256, "eat-ueid"],
  verificationService: [2400, "psa-verification-service-indicator"],
};

/** psatoken's JSON names the P2 nonce and instance ID like P1's. */
const P2_JSON_NAMES: Partial<Record<ClaimName, string>> = {
  nonce: "psa-nonce",
  instanceId: "psa-instance-id",
};

const SW = {
  measurementType: [1, "measurement-type"],
  measurementValue: [2, "measurement-value"],
  version: [4, "version"],
  signerId: [5, "signer-id"],
  measurementDescription: [6, "measurement-description"],
} as const;

/** Claim values as found, before their types are known: a CBOR map or a JSON object. */
interface Source {
  get(key: number, json: string): unknown;
  /** Byte strings: CBOR bstr, or standard base64 text in JSON. */
  bytes(value: unknown): Uint8Array | undefined;
  /** A nested map (a software component). */
  child(value: unknown): Source | undefined;
  readonly json: boolean;
}

/**
 * Decodes a token payload (the CBOR claims map) and validates it under the profile it names:
 * 265 (eat_profile) selects P2 or RFC 9783, its absence P1 (whose own profile claim is optional).
 */
export function decodePsaClaims(payload: Uint8Array): PsaClaims {
  let map: unknown;
  try {
    map = decode(payload, { preferMap: true, rejectDuplicateKeys: true });
  } catch {
    throw new ParseError(PSA_TOKEN_MALFORMED, "payload", "is not well-formed CBOR");
  }
  if (!(map instanceof Map)) {
    throw new ParseError(PSA_TOKEN_MALFORMED, "payload", "is not a CBOR map of claims");
  }
  const named = map.get(265);
  let profile: PsaProfile = PSA_PROFILE_1;
  if (named !== undefined) {
    if (named !== PSA_PROFILE_2 && named !== PSA_PROFILE_RFC9783) {
      throw new ParseError(
        PSA_CLAIMS_INVALID,
        "eat-profile",
        `names ${describe(named)}, not a PSA profile (${PSA_PROFILES.join(", ")})`,
      );
    }
    profile = named;
  }
  return validate(cborSource(map), profile);
}

/**
 * A claim set in psatoken's JSON form (e.g. "psa-client-id", base64 byte strings), validated
 * under `profile` as the token's CBOR would be. Names that belong to other profiles are ignored.
 */
export function psaClaimsFromJson(json: unknown, profile: PsaProfile): PsaClaims {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ParseError(PSA_TOKEN_MALFORMED, "claims", "is not a JSON object");
  }
  return validate(jsonSource(json as Record<string, unknown>), profile);
}

function cborSource(map: Map<unknown, unknown>): Source {
  return {
    json: false,
    get: (key) => map.get(key),
    bytes: (value) => (value instanceof Uint8Array ? value : undefined),
    child: (value) => (value instanceof Map ? cborSource(value) : undefined),
  };
}

function jsonSource(object: Record<string, unknown>): Source {
  return {
    json: true,
    get: (_key, name) => (Object.hasOwn(object, name) ? object[name] : undefined),
    bytes: (value) => (typeof value === "string" ? fromStdBase64(value) : undefined),
    child: (value) =>
      typeof value === "object" && value !== null && !Array.isArray(value)
        ? jsonSource(value as Record<string, unknown>)
        : undefined,
  };
}

/** RFC 4648 base64 with padding, as Go's encoding/json writes byte slices. */
function fromStdBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bin = atob(text);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function validate(source: Source, profile: PsaProfile): PsaClaims {
  const p1 = profile === PSA_PROFILE_1;
  const layout = p1 ? P1_LAYOUT : P2_LAYOUT;
  const nameOf = (claim: ClaimName): string =>
    (source.json && !p1 ? P2_JSON_NAMES[claim] : undefined) ??
    (layout[claim] as readonly [number, string])[1];
  const raw = (claim: ClaimName): unknown => {
    const where = layout[claim];
    return where === undefined ? undefined : source.get(where[0], nameOf(claim));
  };
  const invalid = (claim: ClaimName, problem: string): never => {
    throw new ParseError(PSA_CLAIMS_INVALID, nameOf(claim), `${problem} (profile ${profile})`);
  };
  const text = (claim: ClaimName): string | undefined => {
    const value = raw(claim);
    if (value === undefined) return undefined;
    if (typeof value !== "string") invalid(claim, "is not a text string");
    return value as string;
  };
  const bytes = (claim: ClaimName, value = raw(claim)): Uint8Array | undefined => {
    if (value === undefined) return undefined;
    return source.bytes(value) ?? invalid(claim, "is not a byte string");
  };
  const int = (claim: ClaimName): number | undefined => {
    const value = raw(claim);
    if (value === undefined) return undefined;
    return integer(value) ?? invalid(claim, "is not an integer");
  };
  const required = <T>(claim: ClaimName, value: T | undefined): T =>
    value ?? invalid(claim, "is missing and the profile requires it");

  const named = text("profile");
  if (named === undefined ? !p1 : named !== profile) {
    invalid("profile", named === undefined ? "is missing" : `names ${describe(named)}`);
  }

  const lifecycle = required("securityLifecycle", int("securityLifecycle"));
  if (psaLifecycleState(lifecycle) === undefined) {
    invalid("securityLifecycle", `holds ${lifecycle}, which is no PSA lifecycle state`);
  }

  const implementationId = required("implementationId", bytes("implementationId"));
  if (implementationId.length !== 32) {
    invalid("implementationId", `is ${implementationId.length} bytes, not 32`);
  }

  const softwareComponents = components(source, raw("softwareComponents"), (problem) =>
    invalid("softwareComponents", problem),
  );
  if (p1) {
    const flag = raw("noSoftwareMeasurements");
    if (flag !== undefined && flag !== 1) {
      invalid("noSoftwareMeasurements", "must be 1 when present");
    }
    if (flag !== undefined && softwareComponents !== undefined) {
      invalid("softwareComponents", "cannot appear together with psa-no-software-measurements");
    }
    if (flag === undefined) required("softwareComponents", softwareComponents);
  } else {
    required("softwareComponents", softwareComponents);
  }

  const nonce = required("nonce", p1 ? bytes("nonce") : eatNonce(raw("nonce")));
  if (!isHashSize(nonce.length)) invalid("nonce", `is ${nonce.length} bytes, not 32, 48 or 64`);

  const instanceId = required("instanceId", bytes("instanceId"));
  if (instanceId.length !== 33) invalid("instanceId", `is ${instanceId.length} bytes, not 33`);
  if (instanceId[0] !== 0x01) invalid("instanceId", "does not start with EUID type RAND (0x01)");

  const verificationService = text("verificationService");
  if (verificationService === "") invalid("verificationService", "is empty");

  const clientId = required("clientId", int("clientId"));
  if (clientId < -(2 ** 31) || clientId >= 2 ** 31) {
    invalid("clientId", "is outside the signed 32-bit range");
  }

  const bootSeed = bytes("bootSeed");
  if (bootSeed === undefined) {
    if (p1) required("bootSeed", bootSeed);
  } else if (p1 ? bootSeed.length !== 32 : bootSeed.length < 8 || bootSeed.length > 32) {
    invalid("bootSeed", `is ${bootSeed.length} bytes, not ${p1 ? "32" : "8 to 32"}`);
  }

  const certificationReference = text("certificationReference");
  if (
    certificationReference !== undefined &&
    !(p1 ? /^\d{13}(-\d{5})?$/ : /^\d{13}-\d{5}$/).test(certificationReference)
  ) {
    invalid("certificationReference", `is not in ${p1 ? "EAN-13 or " : ""}EAN-13+5 format`);
  }

  return {
    profile,
    clientId,
    securityLifecycle: lifecycle,
    implementationId,
    ...(bootSeed === undefined ? {} : { bootSeed }),
    ...(certificationReference === undefined ? {} : { certificationReference }),
    ...(softwareComponents === undefined ? {} : { softwareComponents }),
    nonce,
    instanceId,
    ...(verificationService === undefined ? {} : { verificationService }),
  };

  /** EAT's nonce claim is one byte string or a list of them; PSA allows exactly one. */
  function eatNonce(value: unknown): Uint8Array | undefined {
    if (!Array.isArray(value)) return bytes("nonce", value);
    if (value.length !== 1) invalid("nonce", `holds ${value.length} nonces, not exactly one`);
    return bytes("nonce", value[0]);
  }
}

function components(
  source: Source,
  value: unknown,
  invalid: (problem: string) => never,
): PsaSwComponent[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) invalid("is not a list");
  const list = value as unknown[];
  if (list.length === 0) invalid("is empty; there must be at least one component");
  return list.map((item, i) => {
    const entry = source.child(item) ?? invalid(`[${i}] is not a map`);
    const text = (field: keyof typeof SW): string | undefined => {
      const v = entry.get(SW[field][0], SW[field][1]);
      if (v !== undefined && typeof v !== "string") invalid(`[${i}].${SW[field][1]} is not text`);
      return v as string | undefined;
    };
    const hash = (field: "measurementValue" | "signerId"): Uint8Array => {
      const v = entry.get(SW[field][0], SW[field][1]);
      if (v === undefined) invalid(`[${i}].${SW[field][1]} is missing`);
      const b = entry.bytes(v) ?? invalid(`[${i}].${SW[field][1]} is not a byte string`);
      if (!isHashSize(b.length)) {
        invalid(`[${i}].${SW[field][1]} is ${b.length} bytes, not 32, 48 or 64`);
      }
      return b;
    };
    const measurementType = text("measurementType");
    const measurementValue = hash("measurementValue");
    const version = text("version");
    const signerId = hash("signerId");
    const measurementDescription = text("measurementDescription");
    return {
      ...(measurementType === undefined ? {} : { measurementType }),
      measurementValue,
      ...(version === undefined ? {} : { version }),
      signerId,
      ...(measurementDescription === undefined ? {} : { measurementDescription }),
    };
  });
}

const isHashSize = (n: number) => n === 32 || n === 48 || n === 64;

/** Integers only (CBOR may hand a bigint for huge ones, which no PSA claim allows). */
function integer(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) ? value : undefined;
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value.slice(0, 60)) : `a ${typeof value}`;
}

/** The claims as Cloister reports them (Claims.platformClaims): JSON-ready, lower-case hex. */
export interface PsaPlatformClaims {
  readonly profile: PsaProfile;
  readonly clientId: number;
  readonly lifecycle: { readonly value: number; readonly name: PsaLifecycleState };
  readonly implementationId: string;
  readonly bootSeed?: string;
  /** P1's psa-hwver (-75005). */
  readonly hardwareVersion?: string;
  /** P2's psa-certification-reference (2398). */
  readonly certificationReference?: string;
  /** Empty when a P1 token asserts psa-no-sw-measurements. */
  readonly softwareComponents: readonly {
    readonly type?: string;
    readonly value: string;
    readonly version?: string;
    readonly signerId: string;
    readonly description?: string;
  }[];
  readonly nonce: string;
  readonly instanceId: string;
  readonly verificationService?: string;
}
