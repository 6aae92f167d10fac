import { decode, encode, Tag } from "cbor2";
import { concat, sha256, toHex } from "../../bytes.js";
import { ParseError } from "../../errors.js";
import { pass, short } from "../checks.js";
import { ecPoint, importEcKey } from "../cose/keys.js";
import {
  COSE_ALGORITHMS,
  type CoseSign1,
  decodeCoseSign1,
  verifyCoseSign1,
} from "../cose/sign1.js";
import { parseOnce } from "../parse-once.js";
import type { Claims, Evidence, VerifyContext } from "../types.js";
import {
  type PlatformVerifier,
  requireFormat,
  VerificationError,
  type VerifiedEvidence,
} from "../verifier.js";
import { appraisePsa } from "./appraise.js";
import {
  decodePsaClaims,
  PSA_PROFILE_1,
  PSA_TOKEN_MALFORMED,
  type PsaClaims,
  type PsaPlatformClaims,
  type PsaSwComponent,
  psaLifecycleState,
} from "./claims.js";
import { endorsedKey, PSA_ENDORSEMENTS_INVALID, parsePsaEndorsements } from "./endorsements.js";
import { PSA_COLLATERAL, PSA_TOKEN_FORMAT } from "./formats.js";

/** A parsed token, not yet authenticated. */
export type PsaToken =
  | { readonly kind: "sign1"; readonly claims: PsaClaims; readonly sign1: CoseSign1 }
  /** HMAC-protected: only the device and a verification service holding its key can check it. */
  | { readonly kind: "mac0"; readonly claims: PsaClaims; readonly algorithm: unknown };

const COSE_MAC0_TAG = 17;

/**
 * Parses a PSA token: a COSE_Sign1 (tag 18 or untagged) or a tagged COSE_Mac0 (17), with its
 * claims validated under their profile. ParseError (psa.token.malformed, psa.claims.invalid).
 */
export function parsePsaToken(bytes: Uint8Array): PsaToken {
  let item: unknown;
  try {
    item = decode(bytes, { preferMap: true });
  } catch {
    throw new ParseError(PSA_TOKEN_MALFORMED, "token", "is not well-formed CBOR");
  }
  if (item instanceof Tag && item.tag === COSE_MAC0_TAG) return parseMac0(item.contents);
  const sign1 = decodeCoseSign1(bytes, "token", PSA_TOKEN_MALFORMED);
  return { kind: "sign1", claims: decodePsaClaims(sign1.payload), sign1 };
}

function parseMac0(contents: unknown): PsaToken {
  if (!Array.isArray(contents) || contents.length !== 4) {
    throw new ParseError(PSA_TOKEN_MALFORMED, "token", "is not a COSE_Mac0 array of four items");
  }
  const [protectedBytes, unprotected, payload, tag] = contents as unknown[];
  if (!(protectedBytes instanceof Uint8Array) || !(unprotected instanceof Map)) {
    throw new ParseError(PSA_TOKEN_MALFORMED, "token.protected", "is not a COSE header pair");
  }
  if (!(payload instanceof Uint8Array) || !(tag instanceof Uint8Array)) {
    throw new ParseError(
      PSA_TOKEN_MALFORMED,
      "token.payload",
      "is not an attached payload with a tag",
    );
  }
  let header: unknown;
  try {
    header = protectedBytes.length === 0 ? new Map() : decode(protectedBytes, { preferMap: true });
  } catch {
    throw new ParseError(PSA_TOKEN_MALFORMED, "token.protected", "is not well-formed CBOR");
  }
  if (!(header instanceof Map)) {
    throw new ParseError(PSA_TOKEN_MALFORMED, "token.protected", "is not a map");
  }
  return { kind: "mac0", claims: decodePsaClaims(payload), algorithm: header.get(1) };
}

/**
 * parse -> verify for Arm PSA attestation tokens (RFC 9783). The IAK has no certificate chain:
 * the key comes from the endorsements the caller supplies (collateral "psa_endorsements"),
 * looked up by the token's instance ID.
 */
export const psaVerifier: PlatformVerifier = {
  platform: "psa",
  async verify(evidence: Evidence, context: VerifyContext): Promise<VerifiedEvidence> {
    requireFormat(evidence, PSA_TOKEN_FORMAT, "PSA");
    const token = parsePsaToken(evidence.data);
    if (token.kind === "mac0") {
      throw new VerificationError(
        "psa.token.mac0",
        "The PSA token is a COSE_Mac0, authenticated with a symmetric key that only the device and its verification service hold, so it cannot be verified here.",
      );
    }
    const { claims, sign1 } = token;
    const instanceId = toHex(claims.instanceId);
    const stored = context.collateral[PSA_COLLATERAL.endorsements];
    if (stored === undefined) {
      throw new VerificationError(
        "psa.endorsements.missing",
        `No PSA endorsements (collateral "${PSA_COLLATERAL.endorsements}") were supplied, so the attestation key of instance ${short(instanceId)} is unknown.`,
      );
    }
    const jwk = endorsedKey(parseEndorsements(stored), instanceId);
    if (jwk === undefined) {
      throw new VerificationError(
        "psa.key.unknown_instance",
        `The endorsements hold no attestation key for the token's instance ID ${short(instanceId)}.`,
      );
    }
    let key: CryptoKey;
    try {
      key = await importEcKey(jwk);
    } catch {
      throw new ParseError(
        PSA_ENDORSEMENTS_INVALID,
        PSA_COLLATERAL.endorsements,
        `holds a key for instance ${short(instanceId)} that is not a valid EC public key`,
      );
    }
    const algorithm = COSE_ALGORITHMS[sign1.algorithm];
    if (algorithm.namedCurve !== jwk.crv || !(await verifyCoseSign1(sign1, key))) {
      throw new VerificationError(
        "psa.token.signature",
        `The PSA token's ${algorithm.name} signature does not verify with the attestation key endorsed for instance ${short(instanceId)}.`,
      );
    }
    const fingerprint = toHex(await sha256(ecPoint(jwk)));
    const platformClaims = psaPlatformClaims(claims);
    const verified: Claims = {
      platform: "psa",
      measurement: await psaMeasurement(claims.softwareComponents ?? []),
      reportData: concat([claims.nonce, new Uint8Array(64 - claims.nonce.length)]),
      debug:
        platformClaims.lifecycle.name === "non-psa-rot-debug" ||
        platformClaims.lifecycle.name === "recoverable-psa-rot-debug",
      hardwareId: instanceId,
      trustAnchor: { name: `PSA IAK for instance ${short(instanceId)}`, fingerprint },
      platformClaims: platformClaims as unknown as Readonly<Record<string, unknown>>,
    };
    return {
      claims: verified,
      checks: [
        pass(
          "psa.token.signature",
          `The PSA token (${claims.profile}) is signed (${algorithm.name}) by the attestation key endorsed for instance ${short(instanceId)}.`,
        ),
      ],
    };
  },
  appraise: appraisePsa,
};

/**
 * One digest for what the PSA RoT measured, for the common `measurements` pin: SHA-256 over the
 * CBOR array of [measurement type or null, measurement value, signer ID] per software component,
 * sorted by the bytes of each entry's CBOR encoding, so that the order in which the firmware
 * lists its components does not matter. Versions and descriptions are labels, not measurements,
 * and are left out. A token without software measurements hashes the empty array.
 */
export async function psaMeasurement(components: readonly PsaSwComponent[]): Promise<string> {
  const sorted = components
    .map((c) => {
      const entry = [c.measurementType ?? null, c.measurementValue, c.signerId];
      return { entry, bytes: encode(entry) };
    })
    .sort((a, b) => compareBytes(a.bytes, b.bytes))
    .map(({ entry }) => entry);
  return toHex(await sha256(encode(sorted)));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  }
  return a.length - b.length;
}

export function psaPlatformClaims(claims: PsaClaims): PsaPlatformClaims {
  const state = psaLifecycleState(claims.securityLifecycle);
  if (state === undefined) throw new Error("unreachable: a validated lifecycle");
  const reference = claims.certificationReference;
  return {
    profile: claims.profile,
    clientId: claims.clientId,
    lifecycle: { value: claims.securityLifecycle, name: state },
    implementationId: toHex(claims.implementationId),
    ...(claims.bootSeed === undefined ? {} : { bootSeed: toHex(claims.bootSeed) }),
    ...(reference === undefined
      ? {}
      : claims.profile === PSA_PROFILE_1
        ? { hardwareVersion: reference }
        : { certificationReference: reference }),
    softwareComponents: (claims.softwareComponents ?? []).map((c) => ({
      ...(c.measurementType === undefined ? {} : { type: c.measurementType }),
      value: toHex(c.measurementValue),
      ...(c.version === undefined ? {} : { version: c.version }),
      signerId: toHex(c.signerId),
      ...(c.measurementDescription === undefined ? {} : { description: c.measurementDescription }),
    })),
    nonce: toHex(claims.nonce),
    instanceId: toHex(claims.instanceId),
    ...(claims.verificationService === undefined
      ? {}
      : { verificationService: claims.verificationService }),
  };
}

/** The caller's endorsement store serves many tokens: parsed once per distinct input. */
const parseEndorsements = parseOnce(parsePsaEndorsements);
