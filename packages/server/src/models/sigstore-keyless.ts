import {
  CloisterError,
  fromUtf8,
  type KeylessSigner,
  type KeylessVerifier,
  ParseError,
  type SigstoreIdentity,
} from "@cloister/core";
import { bundleFromJSON } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import {
  PolicyError,
  type TrustMaterial,
  toSignedEntity,
  toTrustMaterial,
  VerificationError,
  Verifier,
} from "@sigstore/verify";

/**
 * Sigstore keyless verification for model signatures, fully offline: the trust material is
 * built from a trusted_root.json the operator supplies (sigstore.verify() with a TUF cache still
 * reaches the network). A bundle must carry one transparency-log entry and its certificate one
 * SCT; the certificate is judged at the log's (or a timestamp authority's) time, never the clock.
 */
export function createSigstoreKeylessVerifier(
  trustedRootJson: string | Uint8Array,
): KeylessVerifier {
  const verifier = new Verifier(trustMaterial(trustedRootJson), {
    tlogThreshold: 1,
    ctlogThreshold: 1,
  });
  return {
    async verify(bundleText: string, expected: SigstoreIdentity): Promise<KeylessSigner> {
      const entity = signedEntity(bundleText);
      let signer: ReturnType<Verifier["verify"]>;
      try {
        signer = verifier.verify(entity.entity, {
          subjectAlternativeName: expected.identity,
          extensions: { issuer: expected.issuer },
        });
      } catch (error) {
        throw translate(error, expected);
      }
      return {
        identity: signer.identity?.subjectAlternativeName ?? expected.identity,
        issuer: signer.identity?.extensions?.issuer ?? expected.issuer,
        integratedTime: entity.integratedTime,
      };
    },
  };
}

function trustMaterial(json: string | Uint8Array): TrustMaterial {
  try {
    const text = typeof json === "string" ? json : fromUtf8(json);
    return toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(text)));
  } catch {
    throw new ParseError(
      "model.keyless.trusted_root",
      "trusted_root.json",
      "is not a Sigstore trusted root",
    );
  }
}

function signedEntity(text: string): {
  entity: ReturnType<typeof toSignedEntity>;
  integratedTime: Date | undefined;
} {
  try {
    const bundle = bundleFromJSON(JSON.parse(text));
    const seconds = Number(
      bundle.verificationMaterial.tlogEntries[0]?.integratedTime ?? Number.NaN,
    );
    return {
      entity: toSignedEntity(bundle),
      integratedTime:
        Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : undefined,
    };
  } catch {
    throw new ParseError("model.bundle.malformed", "bundle", "is not a valid Sigstore bundle");
  }
}

function translate(error: unknown, expected: SigstoreIdentity): CloisterError {
  if (error instanceof PolicyError) {
    return new CloisterError(
      "model.identity.mismatch",
      `The Sigstore bundle verifies, but was not signed by ${expected.identity} (${expected.issuer}).`,
    );
  }
  const detail = error instanceof VerificationError ? ` (${error.code}: ${error.message})` : "";
  return new CloisterError(
    "model.keyless.invalid",
    `The Sigstore bundle does not verify against the trusted root${detail}.`,
  );
}
