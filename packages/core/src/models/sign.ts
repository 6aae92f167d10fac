import { certificateDers } from "../attest/pki/certificates.js";
import { CloisterError } from "../errors.js";
import { encodeBase64 } from "./base64.js";
import { BUNDLE_MEDIA_TYPE_V03 } from "./bundle.js";
import { parseBundleCertificates } from "./certificate-chain.js";
import { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from "./dsse.js";
import type { ModelFileDigest } from "./files.js";
import {
  type EcPublicKey,
  importEcSpki,
  parsePublicKeyPem,
  publicKeyHint,
  signEcdsa,
  verifyEcdsa,
} from "./keys.js";
import { compareResourceNames, normalizeResourceName } from "./paths.js";
import { type ModelResource, resourcesDigest, serializeModelStatement } from "./statement.js";

/**
 * What the bundle tells verifiers about the key: its public key (model_signing `sign key`,
 * written as a hint) or its certificate chain, leaf first (`sign certificate`). Keyless signing
 * would be a third member, with a Fulcio certificate and a log entry.
 */
export type ModelSigningIdentity =
  | { readonly method: "key"; readonly publicKeyPem: string }
  /** PEM texts, leaf first then intermediates; a text may hold several certificates. */
  | { readonly method: "certificate"; readonly certificateChain: readonly string[] };

export interface SignModelOptions {
  /** Every file to sign, hashed, ignored paths already left out; "." alone for a single file. */
  readonly files: readonly ModelFileDigest[];
  /** The model directory's name (informative: verifiers ignore it). */
  readonly modelName: string;
  /** ECDSA P-256, P-384 or P-521 private key. */
  readonly key: CryptoKey;
  readonly identity: ModelSigningIdentity;
  /** Recorded as serialization.ignore_paths (omitted when empty, as model_signing does). */
  readonly ignorePaths?: readonly string[];
  readonly allowSymlinks?: boolean;
}

/**
 * Signs a model the way model_signing 1.1 does and returns the bundle JSON text it would write
 * (a Sigstore bundle v0.3 with a DSSE envelope over the in-toto statement). Throws
 * CloisterError: `model.sign.*` when the inputs are inconsistent, `model.key.unsupported`.
 */
export async function signModel(options: SignModelOptions): Promise<string> {
  const resources = await resourcesOf(options.files);
  const subjectDigest = await resourcesDigest(resources);
  const payload = serializeModelStatement({
    subjectName: options.modelName,
    subjectDigest,
    resources,
    serialization: {
      method: "files",
      hashType: "sha256",
      allowSymlinks: options.allowSymlinks ?? false,
      ignorePaths: options.ignorePaths ?? [],
    },
  });
  const message = preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload);
  const signature = await signEcdsa(options.key, message);
  const { publicKey, material } = await materialOf(options.identity);
  // A key that does not pair with the named public key would give a bundle nobody can verify.
  if (!(await verifyEcdsa(publicKey, signature, message))) {
    throw new CloisterError(
      "model.sign.key_mismatch",
      "The signing key does not pair with the public key or certificate given.",
    );
  }
  return JSON.stringify({
    mediaType: BUNDLE_MEDIA_TYPE_V03,
    verificationMaterial: { ...material, tlogEntries: [] },
    dsseEnvelope: {
      payload: encodeBase64(payload),
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig: encodeBase64(signature), keyid: "" }],
    },
  });
}

async function resourcesOf(files: readonly ModelFileDigest[]): Promise<ModelResource[]> {
  if (files.length === 0)
    throw new CloisterError("model.sign.empty", "There are no files to sign.");
  const seen = new Set<string>();
  const resources = files.map((file): ModelResource => {
    const name = normalizeResourceName(file.name);
    if (!/^[0-9a-fA-F]{64}$/.test(file.sha256)) {
      throw new CloisterError(
        "model.files.digest",
        `The digest given for ${JSON.stringify(name)} is not SHA-256 hex.`,
      );
    }
    if (seen.has(name))
      throw new CloisterError(
        "model.files.duplicate",
        `The file ${JSON.stringify(name)} was given twice.`,
      );
    seen.add(name);
    return { name, algorithm: "sha256", digest: file.sha256.toLowerCase() };
  });
  if (seen.has(".") && resources.length > 1) {
    throw new CloisterError(
      "model.sign.single_file",
      'The name "." stands for a single-file model and cannot be one of several files.',
    );
  }
  return resources.sort((a, b) => compareResourceNames(a.name, b.name));
}

async function materialOf(
  identity: ModelSigningIdentity,
): Promise<{ publicKey: EcPublicKey; material: Record<string, unknown> }> {
  if (identity.method === "key") {
    const publicKey = await parsePublicKeyPem(identity.publicKeyPem, "the public key");
    return { publicKey, material: { publicKey: { hint: await publicKeyHint(publicKey.spki) } } };
  }
  const ders = identity.certificateChain.flatMap((pem, i) =>
    certificateDers(pem, `certificate chain ${i + 1}`).map((d) => d.der),
  );
  const [leaf] = parseBundleCertificates(ders);
  if (leaf === undefined)
    throw new CloisterError("model.sign.empty", "The certificate chain is empty.");
  const publicKey = await importEcSpki(
    new Uint8Array(leaf.publicKey.rawData),
    "the signing certificate's key",
  );
  return {
    publicKey,
    material: {
      x509CertificateChain: { certificates: ders.map((der) => ({ rawBytes: encodeBase64(der) })) },
    },
  };
}
