import { CloisterError } from "../../../errors.js";
import { fingerprint, parseDer, signedBy } from "../../pki/certificates.js";
import type { X509Certificate } from "../../pki/x509.js";
import { VerificationError } from "../../verifier.js";
import { NVIDIA_RIM_ROOT_NAME, NVIDIA_RIM_ROOT_SHA256, nvidiaRimRoot } from "./root.js";
import type { RimSigner } from "./types.js";

/**
 * The RIM's KeyInfo carries its signing chain leaf first (NVIDIA: "HCC RIM L4 Signer" ->
 * "Reference Value L3 GH100 001" -> "Reference Value GH100 CA" -> the CoRIM root). As NVIDIA's
 * verifier does, the embedded root is never trusted: a self-issued last certificate is
 * dropped, and the rest must chain, each signed by the next, to the pinned root.
 *
 * Validity follows NVIDIA too: its verifier checks every certificate of the chain, root
 * included, at the time of verification and refuses the RIM with status "expired" when one is
 * out of its window. Here that time is the caller's `now`.
 */

export async function verifyRimChain(
  certificates: readonly Uint8Array[],
  now: Date,
): Promise<RimSigner> {
  if (Number.isNaN(now.getTime())) {
    throw new CloisterError("verify.now", "The verification time is not a valid date.");
  }
  const parsed = certificates.map((der, i) => parseDer(der, `RIM certificate ${i + 1}`));
  const last = parsed.at(-1);
  const embedded =
    last !== undefined && last.subject === last.issuer ? parsed.slice(0, -1) : parsed;
  const leaf = embedded[0];
  if (leaf === undefined) {
    throw new VerificationError(
      "nvidia.rim.chain",
      "The RIM carries no signing certificate below a root.",
    );
  }
  const root = nvidiaRimRoot();
  const path = [...embedded, root];
  for (let i = 0; i < path.length - 1; i++) {
    const subject = path[i] as X509Certificate;
    const issuer = path[i + 1] as X509Certificate;
    if (!(await signedBy(subject, await issuer.publicKey.export()))) {
      const by = i + 1 === path.length - 1 ? `the pinned ${NVIDIA_RIM_ROOT_NAME}` : name(issuer);
      throw new VerificationError(
        "nvidia.rim.chain",
        `The RIM certificate ${name(subject)} is not signed by ${by}: the RIM does not chain to NVIDIA's RIM root.`,
      );
    }
  }
  for (const certificate of path) {
    const from = certificate.notBefore;
    const to = certificate.notAfter;
    if (now < from || now > to) {
      throw new VerificationError(
        "nvidia.rim.expired",
        `The RIM certificate ${name(certificate)} is valid from ${from.toISOString()} to ${to.toISOString()}, not at ${now.toISOString()}.`,
      );
    }
  }
  const expires = new Date(Math.min(...path.map((c) => c.notAfter.getTime())));
  return {
    subject: leaf.subject,
    anchor: { name: NVIDIA_RIM_ROOT_NAME, fingerprint: NVIDIA_RIM_ROOT_SHA256 },
    expires,
  };
}

function name(certificate: X509Certificate): string {
  return `"${certificate.subject.slice(0, 120)}" (SHA-256 ${fingerprint(certificate).slice(0, 16)}…)`;
}
