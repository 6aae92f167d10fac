import {
  createLocalJWKSet,
  exportJWK,
  importX509,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  jwtVerify,
} from "jose";
import { CloisterError } from "../../../errors.js";
import { pass } from "../../checks.js";
import type { Check } from "../../types.js";
import { VerificationError } from "../../verifier.js";
import { gpuChecks, type NrasExpectedGpu, overallChecks } from "./appraise.js";
import { NRAS_MALFORMED, type NrasEat, parseNrasToken } from "./token.js";

/**
 * Verifies an NRAS detached EAT offline: every JWT (the overall one and each GPU's) must be
 * ES384-signed by a key of the supplied JWKS, issued by an accepted NRAS issuer, inside its
 * nbf..exp window at `now`, and carry the expected nonce; the overall token's `submods` must
 * name exactly the detached tokens present. Failures of these throw. The appraisal claims
 * (overall result, measurement result, architecture, RIM and certificate statuses, versions)
 * come back as checks.
 *
 * The `submods` digests are not recomputed: NRAS hashes an intermediate JSON serialisation of
 * the claims that no verifier can reproduce, not the detached JWT. Each detached token is bound
 * to the request by its own signature and nonce instead.
 */

export const NRAS_PRODUCTION_ISSUER = "https://nras.attestation.nvidia.com";

export interface NrasOptions {
  /** NRAS's signing keys (its /.well-known/jwks.json), fetched and pinned by the caller. */
  readonly jwks: JSONWebKeySet;
  readonly now: Date;
  /** The nonce sent with the evidence, hex. */
  readonly nonce: string;
  /** Accepted `iss` values; by default NVIDIA's production service only. */
  readonly issuers?: readonly string[];
  /** What the GPUs must report; checks for versions run only when given. */
  readonly expected?: NrasExpectedGpu;
}

export interface NrasSubmodule {
  /** The key NRAS gave it: "GPU-0", "SWITCH-1", … */
  readonly name: string;
  readonly claims: JWTPayload;
  readonly driverVersion?: string;
  readonly vbiosVersion?: string;
  /** The device's unique entity id (a decimal string in NRAS tokens). */
  readonly ueid?: string;
  readonly hwmodel?: string;
}

export interface VerifiedNras {
  readonly overall: JWTPayload;
  readonly submodules: readonly NrasSubmodule[];
  /** Appraisal of the claims; a `fail` means NRAS found the GPU not in a trustworthy state. */
  readonly checks: readonly Check[];
}

export async function verifyNrasToken(
  token: NrasEat | string | unknown,
  options: NrasOptions,
): Promise<VerifiedNras> {
  const eat = isEat(token) ? token : parseNrasToken(token);
  if (Number.isNaN(options.now.getTime())) {
    throw new CloisterError("verify.now", "The verification time is not a valid date.");
  }
  const keys = createLocalJWKSet(await withPublicCoordinates(options.jwks));
  const nonce = options.nonce.toLowerCase();
  const verify = async (jwt: string, what: string): Promise<JWTPayload> => {
    const payload = await verifyJwt(jwt, what, keys, options);
    const actual = typeof payload.eat_nonce === "string" ? payload.eat_nonce.toLowerCase() : "";
    if (actual !== nonce) {
      throw new VerificationError(
        "nvidia.nras.nonce",
        `The ${what}'s eat_nonce is not the nonce sent with the evidence: the result is for another request.`,
      );
    }
    return payload;
  };
  const overall = await verify(eat.overall, "overall NRAS token");
  checkSubmods(overall, eat);
  const checks: Check[] = [
    pass(
      "nvidia.nras.token",
      `The NRAS result (${eat.detached.size} detached token(s)) is signed by a supplied NRAS key, current and for this nonce.`,
    ),
    ...overallChecks(overall),
  ];
  const submodules: NrasSubmodule[] = [];
  for (const [name, jwt] of eat.detached) {
    const claims = await verify(jwt, `NRAS token for ${name}`);
    checks.push(...gpuChecks(name, claims, options.expected));
    submodules.push({
      name,
      claims,
      ...optionalString("driverVersion", claims["x-nvidia-gpu-driver-version"]),
      ...optionalString("vbiosVersion", claims["x-nvidia-gpu-vbios-version"]),
      ...optionalString("ueid", claims.ueid),
      ...optionalString("hwmodel", claims.hwmodel),
    });
  }
  return { overall, submodules, checks };
}

async function verifyJwt(
  jwt: string,
  what: string,
  keys: ReturnType<typeof createLocalJWKSet>,
  options: NrasOptions,
): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(jwt, keys, {
      algorithms: ["ES384"],
      issuer: [...(options.issuers ?? [NRAS_PRODUCTION_ISSUER])],
      currentDate: options.now,
      requiredClaims: ["exp", "nbf", "eat_nonce"],
    });
    return payload;
  } catch (error) {
    throw refusal(error, what, options.now);
  }
}

/** jose's error codes, mapped to Cloister's reasons. */
function refusal(error: unknown, what: string, now: Date): CloisterError {
  const code = (error as { code?: unknown }).code;
  const claim = (error as { claim?: unknown }).claim;
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return new VerificationError(
        "nvidia.nras.expired",
        `The ${what} expired before ${now.toISOString()}.`,
      );
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      if (claim === "nbf") {
        return new VerificationError(
          "nvidia.nras.not_yet_valid",
          `The ${what} is not valid before its nbf, after ${now.toISOString()}.`,
        );
      }
      if (claim === "iss") {
        return new VerificationError(
          "nvidia.nras.issuer",
          `The ${what} was not issued by an accepted NRAS issuer.`,
        );
      }
      return new VerificationError(
        NRAS_MALFORMED,
        `The ${what} lacks or has an invalid "${String(claim)}" claim.`,
      );
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return new VerificationError(
        "nvidia.nras.signature",
        `The ${what} is not ES384-signed by a key of the supplied NRAS JWKS.`,
      );
    default:
      return new VerificationError(NRAS_MALFORMED, `The ${what} is not a well-formed signed JWT.`);
  }
}

function checkSubmods(overall: JWTPayload, eat: NrasEat): void {
  const submods = overall.submods;
  if (typeof submods !== "object" || submods === null || Array.isArray(submods)) {
    throw new VerificationError(NRAS_MALFORMED, "The overall NRAS token has no submods object.");
  }
  const listed = Object.keys(submods).sort();
  const present = [...eat.detached.keys()].sort();
  if (listed.join("\n") !== present.join("\n")) {
    throw new VerificationError(
      "nvidia.nras.submods",
      `The overall NRAS token lists submodules [${listed.join(", ")}] but the detached tokens are [${present.join(", ")}].`,
    );
  }
}

/**
 * NRAS publishes its keys with an x5c certificate; jose selects keys by their JWK coordinates,
 * so a key given by certificate only gets them from its first certificate. The certificate
 * chain itself is not checked: the JWKS is pinned by the caller, as NVIDIA's SDK trusts it.
 */
async function withPublicCoordinates(jwks: JSONWebKeySet): Promise<JSONWebKeySet> {
  const keys: JWK[] = [];
  for (const key of jwks.keys) {
    const cert = key.x5c?.[0];
    if (key.x !== undefined || cert === undefined) {
      keys.push(key);
      continue;
    }
    try {
      const pem = `-----BEGIN CERTIFICATE-----\n${cert}\n-----END CERTIFICATE-----`;
      const coordinates = await exportJWK(await importX509(pem, "ES384", { extractable: true }));
      keys.push({ ...coordinates, ...key, x: coordinates.x, y: coordinates.y, alg: "ES384" });
    } catch {
      throw new CloisterError(
        "nvidia.nras.jwks",
        `The JWKS key ${JSON.stringify(String(key.kid ?? "")).slice(0, 80)} has an x5c certificate that is not a P-384 certificate.`,
      );
    }
  }
  return { keys };
}

function isEat(value: unknown): value is NrasEat {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && "detached" in value
  );
}

function optionalString<K extends string>(key: K, value: unknown): { [P in K]?: string } {
  return (typeof value === "string" ? { [key]: value } : {}) as { [P in K]?: string };
}
