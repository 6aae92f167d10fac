import type { Check } from "../attest/types.js";
import type { ModelFileDigest } from "./files.js";
import type { ModelResource, ModelSerialization } from "./statement.js";

/** The three ways model_signing signs, named as its CLI names them. */
export type ModelSigningMethod = "key" | "certificate" | "sigstore";

/** A keyless signer the verifier accepts: the certificate's identity and its OIDC issuer. */
export interface SigstoreIdentity {
  /** The SAN of the Fulcio certificate (an e-mail address or URI), compared exactly. */
  readonly identity: string;
  /** The OIDC issuer recorded in the certificate, e.g. https://accounts.google.com. */
  readonly issuer: string;
}

/** What the verifier trusts. Each method needs its own kind of anchor. */
export type ModelTrust =
  /** Public keys as PEM SubjectPublicKeyInfo ("PUBLIC KEY"); any one of them may have signed. */
  | { readonly method: "key"; readonly keys: readonly string[] }
  /** Trusted certificates as PEM, roots or intermediates; a chain may end at any of them. */
  | { readonly method: "certificate"; readonly certificates: readonly string[] }
  /** Sigstore keyless signers; any one of them may have signed. */
  | { readonly method: "sigstore"; readonly identities: readonly SigstoreIdentity[] };

/** Who a keyless verifier found signed the bundle. */
export interface KeylessSigner {
  readonly identity: string;
  readonly issuer: string;
  /** The transparency log's time for the entry, when the bundle has one. */
  readonly integratedTime: Date | undefined;
}

/**
 * Verifies a Sigstore keyless bundle (certificate chain to Fulcio, SCT, transparency log entry,
 * signature over the DSSE envelope) for one expected signer, against trust material the
 * implementation was built with. Core defines it and the Node server implements it with
 * sigstore-js. Throws CloisterError: `model.identity.mismatch` when the bundle verifies but
 * was signed by someone else, `model.keyless.invalid` for any other failure.
 */
export interface KeylessVerifier {
  verify(bundle: string, expected: SigstoreIdentity): Promise<KeylessSigner>;
}

export interface VerifyModelOptions {
  /** The model's files as found, hashed; see ModelFileDigest. */
  readonly files: readonly ModelFileDigest[];
  readonly trust: ModelTrust;
  readonly now: Date;
  /**
   * Tolerate files that are present but not signed (model_signing --ignore_unsigned_files):
   * they are reported as a warning instead of failing `model.files.extra`.
   */
  readonly ignoreUnsignedFiles?: boolean;
  /** Required for `trust.method === "sigstore"`. */
  readonly keyless?: KeylessVerifier;
}

export interface ModelVerification {
  /** True only when every check passed or warned and the signature verified. */
  readonly verified: boolean;
  readonly method: ModelSigningMethod;
  /**
   * Who signed, once the signature verified: "key sha256:<SPKI SHA-256>",
   * "<certificate subject> (anchor sha256:<fingerprint>)" or "<identity> (<issuer>)".
   */
  readonly signer?: string;
  /** "sha256:<subject digest>", the model's single digest, once the signature verified. */
  readonly digest?: string;
  /** The signed files, once the signature verified. */
  readonly resources: readonly ModelResource[];
  /** The paths the signer excluded (serialization.ignore_paths), once the signature verified. */
  readonly ignorePaths: readonly string[];
  readonly serialization?: ModelSerialization;
  /** Sigstore only: the transparency log's time for the signature. */
  readonly signedAt?: Date;
  readonly checks: readonly Check[];
  /** The codes of the failed checks, in order: empty exactly when `verified`. */
  readonly reasons: readonly string[];
}
