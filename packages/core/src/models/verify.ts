import { fail, pass, skip, warn } from "../attest/checks.js";
import { fingerprint } from "../attest/pki/certificates.js";
import type { Check } from "../attest/types.js";
import { fromUtf8 } from "../bytes.js";
import { CloisterError } from "../errors.js";
import { parseSigstoreBundle, type SigstoreBundle } from "./bundle.js";
import {
  parseBundleCertificates,
  parseTrustAnchors,
  verifyCertificateChain,
} from "./certificate-chain.js";
import { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from "./dsse.js";
import { compareModelFiles } from "./files.js";
import { keyFingerprint, parsePublicKeyPem, publicKeyHint, verifyEcdsa } from "./keys.js";
import { type ModelStatement, parseModelStatement, resourcesDigest } from "./statement.js";
import type {
  KeylessVerifier,
  ModelTrust,
  ModelVerification,
  SigstoreIdentity,
  VerifyModelOptions,
} from "./types.js";

/**
 * Verifies an OpenSSF model signature (model_signing 0.3 to 1.1) over the model's files:
 * the DSSE signature by the trusted key, certificate chain or Sigstore identity, the in-toto
 * statement, the manifest's own digest, and every file against its signed digest.
 *
 * Throws ParseError when the bundle is not a Sigstore bundle with a DSSE envelope, and
 * CloisterError for unusable trust input; every other finding is a check in the result.
 * Contents of the statement are reported only once the signature over them verified.
 */
export async function verifyModelSignature(
  bundleInput: string | Uint8Array,
  options: VerifyModelOptions,
): Promise<ModelVerification> {
  const bundle = parseSigstoreBundle(bundleInput);
  const text = typeof bundleInput === "string" ? bundleInput : fromUtf8(bundleInput);
  const { trust } = options;
  const checks: Check[] = [payloadTypeCheck(bundle)];
  const authenticity = await authenticate(bundle, text, trust, options);
  checks.push(...authenticity.checks);
  const base = { method: trust.method, resources: [], ignorePaths: [] };
  if (authenticity.signer === undefined) return finish(base, checks);

  let statement: ModelStatement;
  try {
    statement = parseModelStatement(bundle.dsseEnvelope.payload);
  } catch (error) {
    checks.push(fail(codeOf(error, "model.statement.malformed"), messageOf(error)));
    return finish({ ...base, signer: authenticity.signer }, checks);
  }
  const computed = await resourcesDigest(statement.resources);
  checks.push(
    computed === statement.subjectDigest
      ? pass(
          "model.manifest",
          `The subject digest sha256:${computed} covers the ${statement.resources.length} signed files.`,
        )
      : fail(
          "model.manifest.inconsistent",
          `The manifest is inconsistent: the subject digest is ${JSON.stringify(statement.subjectDigest.slice(0, 80))} but the signed files hash to sha256:${computed}.`,
        ),
  );
  checks.push(
    ...compareModelFiles(options.files, statement.resources, {
      ignoreUnsignedFiles: options.ignoreUnsignedFiles ?? false,
    }),
  );
  return finish(
    {
      ...base,
      signer: authenticity.signer,
      digest: `sha256:${computed}`,
      resources: statement.resources,
      ignorePaths: statement.serialization.ignorePaths,
      serialization: statement.serialization,
      ...(authenticity.signedAt === undefined ? {} : { signedAt: authenticity.signedAt }),
    },
    checks,
  );
}

interface Authenticity {
  readonly checks: Check[];
  /** Set only when the signature verified. */
  readonly signer?: string;
  readonly signedAt?: Date;
}

function payloadTypeCheck(bundle: SigstoreBundle): Check {
  const type = bundle.dsseEnvelope.payloadType;
  return type === IN_TOTO_PAYLOAD_TYPE
    ? pass(
        "model.payload.type",
        `The DSSE payload is an in-toto statement (${IN_TOTO_PAYLOAD_TYPE}).`,
      )
    : fail(
        "model.payload.type",
        `The DSSE payload type is ${JSON.stringify(type.slice(0, 80))}, not ${IN_TOTO_PAYLOAD_TYPE}.`,
      );
}

async function authenticate(
  bundle: SigstoreBundle,
  text: string,
  trust: ModelTrust,
  options: VerifyModelOptions,
): Promise<Authenticity> {
  switch (trust.method) {
    case "key":
      return byKey(bundle, trust.keys);
    case "certificate":
      return byCertificate(bundle, trust.certificates, options.now);
    case "sigstore":
      return byKeyless(text, trust.identities, options.keyless);
  }
}

async function byKey(bundle: SigstoreBundle, pems: readonly string[]): Promise<Authenticity> {
  if (pems.length === 0) {
    throw new CloisterError("model.trust.empty", "No public key was given to verify with.");
  }
  const keys = await Promise.all(
    pems.map((pem, i) => parsePublicKeyPem(pem, `public key ${i + 1}`)),
  );
  const checks: Check[] = [];
  const material = bundle.verificationMaterial;
  let candidates = keys;
  if (material.kind === "publicKey" && material.hint !== undefined) {
    const hints = await Promise.all(keys.map((k) => publicKeyHint(k.spki)));
    candidates = keys.filter((_, i) => hints[i] === material.hint);
    if (candidates.length === 0) {
      checks.push(
        fail(
          "model.key.mismatch",
          `The bundle names the key ${JSON.stringify(material.hint.slice(0, 80))}, which is not a key given to verify with.`,
        ),
      );
      return { checks };
    }
    checks.push(pass("model.key.hint", "The bundle's key hint names a trusted key."));
  } else if (material.kind === "publicKey") {
    checks.push(
      warn(
        "model.key.hint",
        "The bundle carries no key hint (signed before model_signing 1.1); the signature alone identifies the key.",
      ),
    );
  } else {
    checks.push(
      warn(
        "model.key.hint",
        "The bundle carries certificates; only the given public key is trusted, not them.",
      ),
    );
  }
  const message = preAuthEncoding(bundle.dsseEnvelope.payloadType, bundle.dsseEnvelope.payload);
  for (const key of candidates) {
    if (await verifyEcdsa(key, bundle.dsseEnvelope.signature.sig, message)) {
      const signer = `key ${await keyFingerprint(key.spki)}`;
      checks.push(
        pass(
          "model.signature",
          `The DSSE signature verifies with the trusted ${key.curve} ${signer}.`,
        ),
      );
      return { checks, signer };
    }
  }
  checks.push(
    fail(
      "model.signature.invalid",
      "The DSSE signature does not verify with any trusted key: the bundle was altered or signed with another key.",
    ),
  );
  return { checks };
}

async function byCertificate(
  bundle: SigstoreBundle,
  pems: readonly string[],
  now: Date,
): Promise<Authenticity> {
  const anchors = parseTrustAnchors(pems);
  const material = bundle.verificationMaterial;
  if (material.kind === "publicKey") {
    return {
      checks: [
        fail(
          "model.certificate.missing",
          "The bundle was signed with a bare key and carries no certificate to verify.",
        ),
      ],
    };
  }
  const ders = material.kind === "certificate" ? [material.certificate] : material.certificates;
  const result = await verifyCertificateChain(parseBundleCertificates(ders), anchors, now);
  const checks = [...result.checks];
  if (result.chain === undefined) {
    checks.push(
      skip(
        "model.signature",
        "The DSSE signature was not checked: the signing certificate is not trusted.",
      ),
    );
    return { checks };
  }
  const { leaf, leafKey, anchor } = result.chain;
  const message = preAuthEncoding(bundle.dsseEnvelope.payloadType, bundle.dsseEnvelope.payload);
  if (!(await verifyEcdsa(leafKey, bundle.dsseEnvelope.signature.sig, message))) {
    checks.push(
      fail(
        "model.signature.invalid",
        "The DSSE signature does not verify with the signing certificate's key: the bundle was altered.",
      ),
    );
    return { checks };
  }
  const signer = `${leaf.subject} (anchor sha256:${fingerprint(anchor)})`;
  checks.push(
    pass(
      "model.signature",
      `The DSSE signature verifies with the key of ${JSON.stringify(leaf.subject.slice(0, 120))}.`,
    ),
  );
  return { checks, signer };
}

async function byKeyless(
  text: string,
  identities: readonly SigstoreIdentity[],
  keyless: KeylessVerifier | undefined,
): Promise<Authenticity> {
  if (keyless === undefined) {
    throw new CloisterError(
      "model.keyless.unavailable",
      "Sigstore keyless verification needs a keyless verifier with trusted Sigstore material.",
    );
  }
  if (identities.length === 0) {
    throw new CloisterError("model.trust.empty", "No Sigstore identity was given to verify with.");
  }
  const failures: CloisterError[] = [];
  for (const expected of identities) {
    try {
      const found = await keyless.verify(text, expected);
      const signer = `${found.identity} (${found.issuer})`;
      return {
        checks: [
          pass(
            "model.signature",
            `The Sigstore bundle verifies: signed by ${signer}${found.integratedTime ? `, logged ${found.integratedTime.toISOString()}` : ""}.`,
          ),
        ],
        signer,
        ...(found.integratedTime === undefined ? {} : { signedAt: found.integratedTime }),
      };
    } catch (error) {
      failures.push(
        error instanceof CloisterError
          ? error
          : new CloisterError(
              "model.keyless.invalid",
              "The Sigstore bundle could not be verified.",
            ),
      );
    }
  }
  // A failure other than the identity is a failure for every identity: report that one.
  const first = failures.find((f) => f.code !== "model.identity.mismatch") ?? failures[0];
  const reason =
    first ??
    new CloisterError("model.keyless.invalid", "The Sigstore bundle could not be verified.");
  return { checks: [fail(reason.code, reason.message)] };
}

function finish(
  result: Omit<ModelVerification, "verified" | "checks" | "reasons">,
  checks: Check[],
): ModelVerification {
  const reasons = checks.filter((c) => c.status === "fail").map((c) => c.code);
  const signed = checks.some((c) => c.code === "model.signature" && c.status === "pass");
  const compared = checks.some((c) => c.code === "model.files" && c.status === "pass");
  return { ...result, verified: reasons.length === 0 && signed && compared, checks, reasons };
}

function codeOf(error: unknown, fallback: string): string {
  return error instanceof CloisterError ? error.code : fallback;
}

function messageOf(error: unknown): string {
  return error instanceof CloisterError ? error.message : "The statement could not be read.";
}
