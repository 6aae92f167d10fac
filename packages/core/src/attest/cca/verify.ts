import { asBufferSource, equalBytes, fromHex, sha256, toHex } from "../../bytes.js";
import { ParseError } from "../../errors.js";
import { pass, short } from "../checks.js";
import { ecPoint, ecPublicJwk, importEcKey } from "../cose/keys.js";
import { type CoseSign1, verifyCoseSign1 } from "../cose/sign1.js";
import { parseOnce } from "../parse-once.js";
import type { Claims, Evidence, VerifyContext } from "../types.js";
import {
  type PlatformVerifier,
  requireFormat,
  VerificationError,
  type VerifiedEvidence,
} from "../verifier.js";
import { appraiseCca } from "./appraise.js";
import {
  type CcaPlatformClaims,
  isCcaDebugLifecycle,
  parseCcaPlatformClaims,
  parseCcaRealmClaims,
} from "./claims.js";
import { CCA_COLLATERAL, CCA_TOKEN_FORMAT } from "./formats.js";
import { type CcaPlatformKey, ccaAnchorsFor, parseCcaPlatformKeys } from "./platform-keys.js";
import { decodeCcaToken } from "./token.js";

const TRUST_ANCHOR_NAME = "Arm CCA platform key (CPAK)";

/** The hash algorithm names CCA claims use (IANA Named Information registry). */
const HASHES: Readonly<Record<string, string>> = {
  "sha-256": "SHA-256",
  "sha-384": "SHA-384",
  "sha-512": "SHA-512",
};

/**
 * parse -> verify for Arm CCA tokens: the platform token must verify with a pinned CPAK, the
 * realm token with the RAK it carries, and the platform's challenge must be the hash of that
 * RAK. Only then is the realm token the platform's word: without the binding any realm could
 * pair its own token with a genuine platform token.
 */
export const ccaVerifier: PlatformVerifier = {
  platform: "cca",
  async verify(evidence: Evidence, context: VerifyContext): Promise<VerifiedEvidence> {
    requireFormat(evidence, CCA_TOKEN_FORMAT, "CCA");
    const token = decodeCcaToken(evidence.data);
    const platform = parseCcaPlatformClaims(token.platform.payload);
    const realm = parseCcaRealmClaims(token.realm.payload);

    const cpak = await verifyPlatform(
      token.platform,
      context.collateral[CCA_COLLATERAL.platformKeys],
      platform.implementationId,
      platform.instanceId,
    );
    const rak = fromHex(realm.publicKey) ?? new Uint8Array(0);
    await verifyRealm(token.realm, rak);
    await verifyBinding(rak, realm.publicKeyHashAlgorithm, platform.challenge);

    const platformClaims: CcaPlatformClaims = { platform, realm };
    const claims: Claims = {
      platform: "cca",
      measurement: realm.rim,
      reportData: fromHex(realm.challenge) ?? new Uint8Array(0),
      debug: isCcaDebugLifecycle(platform.lifecycle.name),
      hardwareId: platform.instanceId,
      trustAnchor: {
        name: TRUST_ANCHOR_NAME,
        fingerprint: toHex(await sha256(ecPoint(cpak.jwk))),
      },
      platformClaims: platformClaims as unknown as Readonly<Record<string, unknown>>,
    };
    return {
      claims,
      checks: [
        pass(
          "cca.platform.signature",
          `The platform token is signed by the trusted CPAK (${short(claims.trustAnchor.fingerprint)}).`,
        ),
        pass("cca.realm.signature", "The realm token is signed by its realm attestation key."),
        pass(
          "cca.binding",
          `The platform token's challenge is the ${realm.publicKeyHashAlgorithm} hash of the realm attestation key.`,
        ),
      ],
    };
  },
  appraise: appraiseCca,
};

/** The anchor whose key verifies the platform token; VerificationError when none does. */
async function verifyPlatform(
  sign1: CoseSign1,
  collateral: Uint8Array | string | undefined,
  implementationId: string,
  instanceId: string,
): Promise<CcaPlatformKey> {
  if (collateral === undefined) {
    throw new VerificationError(
      "cca.platform.key",
      `No CPAK trust anchor was supplied (collateral "${CCA_COLLATERAL.platformKeys}"), so the platform token cannot be verified.`,
    );
  }
  const anchors = ccaAnchorsFor(parsePlatformKeys(collateral), implementationId, instanceId);
  if (anchors.length === 0) {
    throw new VerificationError(
      "cca.platform.key",
      `No pinned CPAK vouches for the platform with implementation ID ${short(implementationId)} and instance ID ${short(instanceId)}.`,
    );
  }
  for (const anchor of anchors) {
    let key: CryptoKey;
    try {
      key = await importEcKey(anchor.jwk);
    } catch {
      throw new VerificationError(
        "cca.platform.key",
        "A pinned CPAK is not a valid EC public key (its point is not on its curve).",
      );
    }
    if (await verifyCoseSign1(sign1, key)) return anchor;
  }
  throw new VerificationError(
    "cca.platform.signature",
    "The platform token's signature does not verify with any pinned CPAK.",
  );
}

async function verifyRealm(sign1: CoseSign1, rak: Uint8Array): Promise<void> {
  const jwk = ecPublicJwk(rak, "realm.publicKey (44237)", "cca.claims.invalid");
  let key: CryptoKey;
  try {
    key = await importEcKey(jwk);
  } catch {
    throw new VerificationError(
      "cca.realm.signature",
      "The realm attestation key in the realm token is not a valid EC public key.",
    );
  }
  if (!(await verifyCoseSign1(sign1, key))) {
    throw new VerificationError(
      "cca.realm.signature",
      "The realm token's signature does not verify with the realm attestation key it carries.",
    );
  }
}

/**
 * The platform challenge is the hash of claim 44237's bytes exactly as carried (the raw point,
 * or the COSE_Key encoding), under claim 44240's algorithm. 44236 names the measurements'
 * algorithm and may differ.
 */
async function verifyBinding(rak: Uint8Array, algorithm: string, challenge: string): Promise<void> {
  const hash = HASHES[algorithm];
  if (hash === undefined) {
    throw new ParseError(
      "cca.claims.invalid",
      "realm.publicKeyHashAlgorithm (44240)",
      `names ${JSON.stringify(algorithm.slice(0, 40))}, not sha-256, sha-384 or sha-512`,
    );
  }
  const digest = new Uint8Array(await crypto.subtle.digest(hash, asBufferSource(rak)));
  if (!equalBytes(digest, fromHex(challenge) ?? new Uint8Array(0))) {
    throw new VerificationError(
      "cca.binding",
      `The platform token's challenge ${short(challenge)} is not the ${algorithm} hash of the realm attestation key: the realm token is not bound to this platform.`,
    );
  }
}

/** The caller's CPAK trust anchors serve many tokens: parsed once per distinct input. */
const parsePlatformKeys = parseOnce(parseCcaPlatformKeys);
