import { sha256 } from "@hpke/common";
import { toHex } from "../../bytes.js";
import { CloisterError } from "../../errors.js";
import { pass, short } from "../checks.js";
import { certificateDers, parseDer, signedBy } from "../pki/certificates.js";
import type { X509Certificate } from "../pki/x509.js";
import type { Check } from "../types.js";
import { VerificationError } from "../verifier.js";
import { type PckExtensions, readPckExtensions } from "./pck.js";
import {
  INTEL_ROOT_FINGERPRINT,
  INTEL_ROOT_NAME,
  importP256,
  intelRoot,
  intelRootKey,
  isIntelRoot,
} from "./roots.js";

/**
 * The two Intel certificate chains a DCAP quote depends on, both ending in the pinned Intel SGX
 * Root CA: the PCK chain in the quote (PCK certificate <- Intel SGX PCK Platform CA or Processor
 * CA <- root), whose leaf key signs the Quoting Enclave's report, and the TCB signing chain of the
 * collateral (Intel SGX TCB Signing <- root), whose key signs the TCB info and QE identity.
 * A supplied root is never used: it must be byte-identical to the pinned one, or the chain is
 * refused, so that a chain from a look-alike root is reported as such rather than as a bad
 * signature.
 */

/** Which Intel CA issued the PCK certificate (and so signs the PCK CRL to check it against). */
export type PckCaKind = "platform" | "processor";

export interface PckChain {
  readonly leaf: X509Certificate;
  readonly intermediate: X509Certificate;
  readonly kind: PckCaKind;
  /** The PCK certificate's key, imported for ECDSA P-256: it verifies the QE report signature. */
  readonly leafKey: CryptoKey;
  /** The Platform or Processor CA's key, imported for ECDSA P-256: it verifies the PCK CRL. */
  readonly intermediateKey: CryptoKey;
  readonly extensions: PckExtensions;
  /** The pass checks. They do not depend on the time of verification. */
  readonly checks: readonly Check[];
  /**
   * Checks the PCK's, the CA's and the root's validity periods at `now`, throwing a
   * VerificationError outside them. Signatures never change, so a caller that keeps this object
   * re-verifies the chain with this call alone.
   */
  checkValidity(now: Date): void;
}

export interface TcbSigningChain {
  readonly signer: X509Certificate;
  /** The signer's key, imported for ECDSA P-256: it verifies TCB info and QE identity. */
  readonly key: CryptoKey;
  readonly checks: readonly Check[];
  checkValidity(now: Date): void;
}

const CA_KINDS: Readonly<Record<string, PckCaKind>> = {
  "Intel SGX PCK Platform CA": "platform",
  "Intel SGX PCK Processor CA": "processor",
};

const TCB_SIGNER_NAME = "Intel SGX TCB Signing";

/**
 * Verifies the PCK certificate chain of a quote (PEM, leaf first: PCK certificate, its CA, and
 * optionally the root) at `now`. Throws VerificationError, or ParseError for certificates or an
 * SGX extension that cannot be read.
 */
export async function verifyPckChain(pem: string, now: Date): Promise<PckChain> {
  const ders = certificateDers(pem, "the PCK certificate chain").map((d) => d.der);
  const chain = await cached(pckChains, cacheKey(ders), () => buildPckChain(ders));
  chain.checkValidity(now);
  return chain;
}

/**
 * Verifies the chain that signs TCB info and QE identity at `now`: the Intel SGX TCB Signing
 * certificate, optionally followed by the root, as PEM text (the PCS issuer-chain header), DER or
 * PEM bytes, or parsed certificates.
 */
export async function verifyTcbSigningChain(
  input: string | Uint8Array | readonly X509Certificate[],
  now: Date,
): Promise<TcbSigningChain> {
  const ders =
    typeof input === "string" || input instanceof Uint8Array
      ? certificateDers(input, "the TCB signing chain").map((d) => d.der)
      : input.map((certificate) => new Uint8Array(certificate.rawData));
  const chain = await cached(tcbChains, cacheKey(ders), () => buildTcbSigningChain(ders));
  chain.checkValidity(now);
  return chain;
}

async function buildPckChain(ders: readonly Uint8Array[]): Promise<PckChain> {
  if (ders.length !== 2 && ders.length !== 3) {
    throw new VerificationError(
      "dcap.chain.shape",
      `The PCK certificate chain holds ${ders.length} certificates; it must hold the PCK certificate, its Intel CA and optionally the Intel SGX Root CA, leaf first.`,
    );
  }
  const [leaf, intermediate, root] = ders.map((der, i) =>
    parseDer(der, `the PCK certificate chain (certificate ${i + 1})`),
  ) as [X509Certificate, X509Certificate, X509Certificate | undefined];
  issuedBy(leaf, intermediate, "PCK certificate chain");
  if (root !== undefined) {
    issuedBy(intermediate, root, "PCK certificate chain");
    requirePinned(root);
  }
  const caName = commonName(intermediate);
  const kind = CA_KINDS[caName];
  if (kind === undefined) {
    throw new VerificationError(
      "dcap.chain.intermediate",
      `The PCK certificate is issued by ${JSON.stringify(caName.slice(0, 64))}, not by the Intel SGX PCK Platform CA or Processor CA.`,
    );
  }
  await requireSignature(
    intermediate,
    await intelRootKey(),
    caName,
    `the pinned ${INTEL_ROOT_NAME}`,
  );
  const intermediateKey = await p256Key(intermediate, caName);
  await requireSignature(leaf, intermediateKey, "PCK", `the ${caName}`);
  const leafKey = await p256Key(leaf, "PCK");
  const extensions = readPckExtensions(leaf);
  const checkValidity = validities([
    ["PCK", leaf],
    [caName, intermediate],
    [INTEL_ROOT_NAME, intelRoot()],
  ]);
  return {
    leaf,
    intermediate,
    kind,
    leafKey,
    intermediateKey,
    extensions,
    checks: [
      pass(
        "dcap.chain.pck",
        `The PCK certificate (FMSPC ${extensions.fmspc}) chains to the pinned ${INTEL_ROOT_NAME} (fingerprint ${short(INTEL_ROOT_FINGERPRINT)}) through the ${caName}.`,
      ),
      pass(
        "dcap.certificate.validity.pck",
        `The PCK certificate (valid ${validityWindow(leaf)}), the ${caName} and the ${INTEL_ROOT_NAME} are within their validity periods at the verification time.`,
      ),
    ],
    checkValidity,
  };
}

async function buildTcbSigningChain(ders: readonly Uint8Array[]): Promise<TcbSigningChain> {
  const certificates = ders.map((der, i) =>
    parseDer(der, `the TCB signing chain (certificate ${i + 1})`),
  );
  const [signer, root] = certificates;
  if (
    signer === undefined ||
    certificates.length > 2 ||
    (root !== undefined && isIntelRoot(signer))
  ) {
    throw new VerificationError(
      "dcap.chain.shape",
      `The TCB signing chain holds ${certificates.length} certificates${signer !== undefined && isIntelRoot(signer) ? ", the root first" : ""}; it must hold the ${TCB_SIGNER_NAME} certificate and optionally the ${INTEL_ROOT_NAME}, in that order.`,
    );
  }
  if (root !== undefined) {
    issuedBy(signer, root, "TCB signing chain");
    requirePinned(root);
  }
  const name = commonName(signer);
  if (name !== TCB_SIGNER_NAME) {
    throw new VerificationError(
      "dcap.chain.tcb_signer",
      `The TCB signing certificate is named ${JSON.stringify(name.slice(0, 64))}, not ${TCB_SIGNER_NAME}: only that certificate signs TCB info and QE identity.`,
    );
  }
  await requireSignature(
    signer,
    await intelRootKey(),
    TCB_SIGNER_NAME,
    `the pinned ${INTEL_ROOT_NAME}`,
  );
  const key = await p256Key(signer, TCB_SIGNER_NAME);
  const checkValidity = validities([
    [TCB_SIGNER_NAME, signer],
    [INTEL_ROOT_NAME, intelRoot()],
  ]);
  return {
    signer,
    key,
    checks: [
      pass(
        "dcap.chain.tcb_signing",
        `The ${TCB_SIGNER_NAME} certificate (serial ${short(signer.serialNumber.toLowerCase())}) is signed by the pinned ${INTEL_ROOT_NAME} (fingerprint ${short(INTEL_ROOT_FINGERPRINT)}).`,
      ),
      pass(
        "dcap.certificate.validity.tcb_signing",
        `The ${TCB_SIGNER_NAME} certificate (valid ${validityWindow(signer)}) and the ${INTEL_ROOT_NAME} are within their validity periods at the verification time.`,
      ),
    ],
    checkValidity,
  };
}

/** Each certificate must name the next as its issuer: otherwise the chain is out of order. */
function issuedBy(certificate: X509Certificate, issuer: X509Certificate, chain: string): void {
  if (certificate.issuer !== issuer.subject) {
    throw new VerificationError(
      "dcap.chain.shape",
      `The ${chain} is out of order: ${JSON.stringify(commonName(certificate).slice(0, 64))} is not issued by the certificate after it, ${JSON.stringify(commonName(issuer).slice(0, 64))}; the chain must run leaf first.`,
    );
  }
}

function requirePinned(root: X509Certificate): void {
  if (!isIntelRoot(root)) {
    throw new VerificationError(
      "dcap.chain.unpinned_root",
      `The supplied root certificate ${JSON.stringify(root.subject.slice(0, 120))} is not the pinned ${INTEL_ROOT_NAME} (fingerprint ${short(INTEL_ROOT_FINGERPRINT)}); Cloister trusts only that root.`,
    );
  }
}

async function requireSignature(
  certificate: X509Certificate,
  key: CryptoKey,
  name: string,
  issuerName: string,
): Promise<void> {
  if (!(await signedBy(certificate, key))) {
    throw new VerificationError(
      "dcap.chain.signature",
      `The ${name} certificate's signature does not verify with ${issuerName}'s key: it was altered, or issued under another key.`,
    );
  }
}

/** Intel DCAP keys are ECDSA P-256 throughout; a certificate with any other key is refused. */
async function p256Key(certificate: X509Certificate, name: string): Promise<CryptoKey> {
  try {
    return await importP256(certificate);
  } catch {
    throw new VerificationError(
      "dcap.chain.key",
      `The ${name} certificate's public key is not an ECDSA P-256 key, the only kind Intel DCAP uses.`,
    );
  }
}

function commonName(certificate: X509Certificate): string {
  return certificate.subjectName.getField("CN").join(", ");
}

function validityWindow(certificate: X509Certificate): string {
  return `${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}`;
}

/** One check over each named certificate's validity period, to run at every verification. */
function validities(
  certificates: readonly (readonly [string, X509Certificate])[],
): (now: Date) => void {
  return (now) => {
    const time = now.getTime();
    if (Number.isNaN(time)) {
      throw new CloisterError("verify.now", "The verification time is not a valid date.");
    }
    for (const [name, certificate] of certificates) {
      if (time < certificate.notBefore.getTime()) {
        throw new VerificationError(
          "dcap.certificate.not_yet_valid",
          `The ${name} certificate is not yet valid at ${now.toISOString()}: it is valid from ${validityWindow(certificate)}.`,
        );
      }
      if (time > certificate.notAfter.getTime()) {
        throw new VerificationError(
          "dcap.certificate.expired",
          `The ${name} certificate expired before ${now.toISOString()}: it was valid from ${validityWindow(certificate)}.`,
        );
      }
    }
  };
}

const CACHE_LIMIT = 32;
const pckChains = new Map<string, Promise<PckChain>>();
const tcbChains = new Map<string, Promise<TcbSigningChain>>();

/** Chains are named by the SHA-256 of each certificate's DER: the same bytes verify the same. */
function cacheKey(ders: readonly Uint8Array[]): string {
  return ders.map((der) => toHex(sha256(der))).join(",");
}

/**
 * The time-independent part of a verification (parsing, signatures, key imports), kept per
 * distinct chain: a server sees the same few PCK chains over and over. Failures are not kept, and
 * the oldest entry goes once the cache is full.
 */
function cached<T>(
  cache: Map<string, Promise<T>>,
  key: string,
  build: () => Promise<T>,
): Promise<T> {
  let entry = cache.get(key);
  if (entry === undefined) {
    const created = build();
    entry = created;
    cache.set(key, created);
    created.catch(() => {
      if (cache.get(key) === created) cache.delete(key);
    });
    if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  }
  return entry;
}
