import { CloisterError } from "../../errors.js";
import { pass, short } from "../checks.js";
import { fingerprint, signedBy } from "../pki/certificates.js";
import type { X509Certificate } from "../pki/x509.js";
import type { Check } from "../types.js";
import { VerificationError } from "../verifier.js";
import type { SnpProduct } from "./abi/types.js";
import { type AmdRoots, amdRoots, identifyPinned, pinnedKey } from "./roots.js";
import type { SigningCertInfo, SigningKind } from "./vcek.js";

/**
 * VCEK -> ASK -> ARK (or VLEK -> ASVK -> ARK), where the intermediate and the root are always
 * Cloister's pinned copies for the product the signer names. Certificates the caller supplies are
 * never used to build the chain; they are only screened, so that a chain meant for another
 * product or anchored in an unknown root is refused with its own reason rather than ignored.
 */

export interface ChainVerification {
  readonly product: SnpProduct;
  /** The pinned ARK the signer chains to, e.g. "AMD ARK-Milan", and its SHA-256 fingerprint. */
  readonly anchor: { readonly name: string; readonly fingerprint: string };
  /** The pass checks for the report. They do not depend on the time of verification. */
  readonly checks: readonly Check[];
  /**
   * Checks the signer's, intermediate's and ARK's validity periods at `now`. Signatures never
   * change, so a caller that keeps this object re-verifies a chain with this call alone.
   */
  checkValidity(now: Date): void;
}

type IntermediateRole = "ask" | "asvk";

const INTERMEDIATE: Readonly<Record<SigningKind, IntermediateRole>> = { vcek: "ask", vlek: "asvk" };

export async function verifySigningChain(
  signer: X509Certificate,
  info: SigningCertInfo,
  supplied: readonly X509Certificate[],
  now: Date,
): Promise<ChainVerification> {
  const signerName = info.kind.toUpperCase();
  const product = info.product;
  if (product === undefined) {
    throw new VerificationError(
      "snp.chain.unknown_product",
      `The ${signerName} names product ${JSON.stringify(info.productName)}; Cloister pins AMD roots for Milan, Genoa and Turin only.`,
    );
  }
  const roots = amdRoots(product);
  const role = INTERMEDIATE[info.kind];
  const intermediateName = role.toUpperCase();
  screenSupplied(supplied, signer, product);
  const intermediateKey = await verifiedIntermediateKey(roots, role);
  if (!(await signedBy(signer, intermediateKey))) {
    throw new VerificationError(
      "snp.chain.signer_signature",
      `The ${signerName}'s signature does not verify with the pinned AMD ${intermediateName}-${product}: it was altered, or issued under another key.`,
    );
  }
  const windows: readonly Validity[] = [
    validity(signerName, signer),
    validity(`${intermediateName}-${product}`, roots[role]),
    validity(`ARK-${product}`, roots.ark),
  ];
  const checkValidity = (at: Date) => {
    for (const window of windows) window.check(at);
  };
  checkValidity(now);
  const anchor = { name: `AMD ARK-${product}`, fingerprint: roots.arkFingerprint };
  const intermediateFingerprint = role === "ask" ? roots.askFingerprint : roots.asvkFingerprint;
  return {
    product,
    anchor,
    checks: [
      pass(
        "snp.chain",
        `The ${signerName} chains to the pinned ${anchor.name} (fingerprint ${short(anchor.fingerprint)}) through the pinned ${intermediateName} (fingerprint ${short(intermediateFingerprint)}).`,
      ),
      pass(
        "snp.certificate.validity",
        `The ${signerName} (valid ${signer.notBefore.toISOString()} to ${signer.notAfter.toISOString()}), ${intermediateName} and ARK are within their validity periods at the verification time.`,
      ),
    ],
    checkValidity,
  };
}

/**
 * A supplied certificate that is pinned for another product means the caller paired this report
 * with the wrong product's chain; a supplied self-issued certificate that is not pinned is a root
 * Cloister does not trust. Both are refused by name. Anything else (the signer itself, the pinned
 * ASK/ASVK/ARK of this product, unrelated certificates) plays no part in the chain.
 */
function screenSupplied(
  supplied: readonly X509Certificate[],
  signer: X509Certificate,
  product: SnpProduct,
): void {
  if (supplied.length === 0) return;
  const signerPrint = fingerprint(signer);
  for (const certificate of supplied) {
    const print = fingerprint(certificate);
    if (print === signerPrint) continue;
    const pinned = identifyPinned(certificate);
    if (pinned !== undefined && pinned.product !== product) {
      throw new VerificationError(
        "snp.chain.wrong_product",
        `The supplied certificates include the AMD ${pinned.role.toUpperCase()}-${pinned.product}, but the signing key is an AMD ${product} key: use the ${product} certificate chain.`,
      );
    }
    if (pinned === undefined && certificate.subject === certificate.issuer) {
      throw new VerificationError(
        "snp.chain.unpinned_root",
        `The supplied root certificate ${JSON.stringify(certificate.subject.slice(0, 120))} (fingerprint ${short(print)}) is not a pinned AMD root; Cloister trusts only its pinned ARKs.`,
      );
    }
  }
}

const intermediates = new Map<string, Promise<CryptoKey>>();

/**
 * The intermediate's verification key, once the ARK's self-signature and the ARK's signature on
 * the intermediate have been checked. Both certificates are pinned, so this is done once per
 * product and role and kept; a failure is not kept.
 */
function verifiedIntermediateKey(roots: AmdRoots, role: IntermediateRole): Promise<CryptoKey> {
  const id = `${roots.product}/${role}`;
  let key = intermediates.get(id);
  if (key === undefined) {
    key = checkIntermediate(roots, role);
    intermediates.set(id, key);
    key.catch(() => intermediates.delete(id));
  }
  return key;
}

async function checkIntermediate(roots: AmdRoots, role: IntermediateRole): Promise<CryptoKey> {
  const arkKey = await pinnedKey(roots.product, "ark");
  const intermediate = roots[role];
  for (const [certificate, name] of [
    [roots.ark, `ARK-${roots.product}`],
    [intermediate, `${role.toUpperCase()}-${roots.product}`],
  ] as const) {
    if (!(await signedBy(certificate, arkKey))) {
      throw new VerificationError(
        "snp.chain.intermediate_signature",
        `The pinned AMD ${name} is not signed by the pinned ARK-${roots.product}.`,
      );
    }
  }
  return pinnedKey(roots.product, role);
}

interface Validity {
  check(now: Date): void;
}

function validity(name: string, certificate: X509Certificate): Validity {
  const from = certificate.notBefore;
  const to = certificate.notAfter;
  const window = `${from.toISOString()} to ${to.toISOString()}`;
  return {
    check(now: Date): void {
      const time = now.getTime();
      if (Number.isNaN(time)) {
        throw new CloisterError("verify.now", "The verification time is not a valid date.");
      }
      if (time < from.getTime()) {
        throw new VerificationError(
          "snp.certificate.not_yet_valid",
          `The ${name} certificate is not yet valid at ${now.toISOString()}: it is valid from ${window}.`,
        );
      }
      if (time > to.getTime()) {
        throw new VerificationError(
          "snp.certificate.expired",
          `The ${name} certificate expired before ${now.toISOString()}: it was valid from ${window}.`,
        );
      }
    },
  };
}
