import { readFile, stat } from "node:fs/promises";
import { isAbsolute, relative, sep } from "node:path";
import {
  CloisterError,
  inspectModelSignature,
  type ModelFileDigest,
  type ModelTrust,
  type ModelVerification,
  type SigstoreIdentity,
  verifyModelSignature,
} from "@cloister/core";
import { type DigestCache, type HashProgress, hashModel } from "./hashing/index.js";
import { createSigstoreKeylessVerifier } from "./sigstore-keyless.js";

/**
 * What an operator trusts to sign models: any mix of the three model_signing methods. A bundle
 * is checked against the anchors of the method it was made with; a method with no anchors is
 * refused (model.trust.method).
 */
export interface ModelTrustPolicy {
  /** Public keys (PEM "PUBLIC KEY"). */
  readonly keys?: readonly string[];
  /** Trusted CA certificates (PEM), roots or intermediates. */
  readonly certificates?: readonly string[];
  readonly sigstore?: {
    /** Sigstore's trusted_root.json (public-good or a private deployment's). */
    readonly trustedRoot: string | Uint8Array;
    readonly identities: readonly SigstoreIdentity[];
  };
}

export interface VerifyModelFilesOptions {
  /** The signature bundle (model_signing's model.sig). */
  readonly bundle: string;
  readonly trust: ModelTrustPolicy;
  readonly now?: Date;
  /** Paths under the model that are not part of it, besides those the signer declared. */
  readonly ignorePaths?: readonly string[];
  readonly ignoreUnsignedFiles?: boolean;
  /** The digest cache; false re-reads every file. Default: the per-user cache. */
  readonly cache?: DigestCache | false;
  readonly onProgress?: (progress: HashProgress) => void;
  readonly signal?: AbortSignal;
}

/** A model refused before load; `verification` holds every check. */
export class ModelVerificationError extends CloisterError {
  readonly verification: ModelVerification;

  constructor(model: string, verification: ModelVerification) {
    const failed = verification.checks.filter((c) => c.status === "fail");
    super(
      verification.reasons[0] ?? "model.unverified",
      `The model ${model} does not verify against its signature: ${failed
        .map((c) => `${c.message} [${c.code}]`)
        .join(" ")}`,
    );
    this.verification = verification;
  }
}

/**
 * Hashes the model at `path` (a file or a directory) the way model_signing does and verifies
 * its signature bundle under the operator's trust. Returns the verification whatever it says;
 * `requireVerifiedModel` is the refusing form.
 */
export async function verifyModelFiles(
  path: string,
  options: VerifyModelFilesOptions,
): Promise<ModelVerification> {
  const bundle = await readBundle(options.bundle);
  const summary = inspectModelSignature(bundle);
  const hashed = await hashModel(path, {
    ignorePaths: [
      ...summary.ignorePaths,
      ...(options.ignorePaths ?? []),
      ...(await insideModel(path, options.bundle)),
    ],
    allowSymlinks: summary.serialization.allowSymlinks,
    ...(options.cache === undefined ? {} : { cache: options.cache }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return verifyModelDigests(bundle, hashed.files, options);
}

/** verifyModelFiles, refusing (ModelVerificationError) anything that is not verified. */
export async function requireVerifiedModel(
  path: string,
  options: VerifyModelFilesOptions,
): Promise<VerifiedModel> {
  return verifiedOrThrow(path, await verifyModelFiles(path, options));
}

/** A verification that passed: its digest and signer are known. */
export type VerifiedModel = ModelVerification & {
  readonly digest: string;
  readonly signer: string;
};

/**
 * The bundle against file digests already known (hashed from disk, or declared by encrypted
 * files' headers), under the operator's anchors for the method the bundle was made with.
 */
export function verifyModelDigests(
  bundle: string,
  files: readonly ModelFileDigest[],
  options: Pick<VerifyModelFilesOptions, "trust" | "now" | "ignoreUnsignedFiles">,
): Promise<ModelVerification> {
  const trust = trustFor(inspectModelSignature(bundle).method, options.trust);
  return verifyModelSignature(bundle, {
    files,
    trust: trust.trust,
    now: options.now ?? new Date(),
    ...(options.ignoreUnsignedFiles === undefined
      ? {}
      : { ignoreUnsignedFiles: options.ignoreUnsignedFiles }),
    ...(trust.keyless === undefined ? {} : { keyless: trust.keyless }),
  });
}

/** The verification, narrowed, or ModelVerificationError naming `model`. */
export function verifiedOrThrow(model: string, verification: ModelVerification): VerifiedModel {
  if (
    !verification.verified ||
    verification.digest === undefined ||
    verification.signer === undefined
  ) {
    throw new ModelVerificationError(model, verification);
  }
  return verification as VerifiedModel;
}

/** The operator's anchors for the method a bundle was made with. */
function trustFor(
  method: ModelVerification["method"],
  policy: ModelTrustPolicy,
): { trust: ModelTrust; keyless?: ReturnType<typeof createSigstoreKeylessVerifier> } {
  const untrusted = (what: string) =>
    new CloisterError(
      "model.trust.method",
      `The model is signed with ${what}, and no ${what} is trusted: configure one.`,
    );
  switch (method) {
    case "key":
      if (!policy.keys?.length) throw untrusted("a public key");
      return { trust: { method, keys: policy.keys } };
    case "certificate":
      if (!policy.certificates?.length) throw untrusted("a certificate");
      return { trust: { method, certificates: policy.certificates } };
    case "sigstore":
      if (policy.sigstore === undefined || policy.sigstore.identities.length === 0) {
        throw untrusted("a Sigstore identity");
      }
      return {
        trust: { method, identities: policy.sigstore.identities },
        keyless: createSigstoreKeylessVerifier(policy.sigstore.trustedRoot),
      };
  }
}

/** The bundle's text, or model.bundle.unreadable. */
export async function readBundle(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new CloisterError(
      "model.bundle.unreadable",
      `Cannot read the signature bundle ${path} (${(error as { code?: string }).code ?? "I/O error"}).`,
    );
  }
}

/** The bundle's path relative to a model directory that holds it: never part of the model. */
async function insideModel(model: string, bundle: string): Promise<string[]> {
  const info = await stat(model).catch(() => undefined);
  if (info?.isDirectory() !== true) return [];
  const rel = relative(model, bundle);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return [];
  return [rel.split(sep).join("/")];
}
