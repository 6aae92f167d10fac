import { asBufferSource, equalBytes, toHex } from "../../bytes.js";
import { fail, pass, short, warn } from "../checks.js";
import type { X509Certificate } from "../pki/x509.js";
import type { Check } from "../types.js";
import type { GpuEvidence } from "./abi/types.js";
import { verifyGpuCertChain } from "./chain.js";
import { type GpuClaims, gpuClaims } from "./claims.js";
import { p384Key } from "./keys.js";
import { gpuRevocation } from "./revocation.js";

/** The SPDM nonce is 32 bytes; NVIDIA's verifiers take the first 32 of a longer one. */
const NONCE_LENGTH = 32;

export interface VerifyGpuOptions {
  /** The verification time, for the certificates' validity. */
  readonly now: Date;
  /** The nonce the verifier asked the device to sign; longer values count by their first 32 bytes. */
  readonly nonce: Uint8Array;
  /**
   * Roots of simulated GPUs (PEM) to accept, for development only; none by default. Evidence
   * that chains to one carries the warn check nvidia.simulated and claims naming that root.
   */
  readonly simulatedRoots?: readonly string[];
  /**
   * DER OCSP responses for the chain's certificates, in any order, as NVIDIA's OCSP service
   * answered them; none by default, which leaves revocation unknown. Nothing is fetched.
   */
  readonly ocsp?: readonly Uint8Array[];
}

export interface GpuVerification {
  readonly checks: readonly Check[];
  /** Present only when no check failed. */
  readonly claims?: GpuClaims;
}

/**
 * Authenticity of one GPU or NVSwitch evidence: the nonce, the device's ECDSA P-384 signature
 * over request ‖ response, the certificate chain to the pinned NVIDIA root, and the FWID the
 * leaf certifies, and the chain's revocation from the OCSP responses supplied. Every check runs
 * and is reported; a malformed chain throws a ParseError.
 */
export async function verifyGpuEvidence(
  evidence: GpuEvidence,
  certChain: Uint8Array | string,
  options: VerifyGpuOptions,
): Promise<GpuVerification> {
  const chain = await verifyGpuCertChain(certChain, {
    now: options.now,
    ...(evidence.values.fwid === undefined ? {} : { fwid: evidence.values.fwid }),
    ...(options.simulatedRoots === undefined ? {} : { simulatedRoots: options.simulatedRoots }),
  });
  const checks: Check[] = [nonceCheck(evidence, options.nonce)];
  if (evidence.padding > 0) {
    checks.push(
      warn(
        "nvidia.evidence.padding",
        `The evidence carries ${evidence.padding} zero bytes after its signature, which nothing signs.`,
      ),
    );
  }
  checks.push(await signatureCheck(evidence, chain.leaf), ...chain.checks);
  const revocation = await gpuRevocation(chain.certificates, options.ocsp ?? [], {
    now: options.now,
    kind: chain.device?.kind,
  });
  checks.push(revocation.check);
  if (checks.some((check) => check.status === "fail")) return { checks };
  // No failed check means the chain reached a trusted root, named a known device and its leaf
  // carries an FWID.
  const { device, leafFwid, trustAnchor } = chain;
  if (device === undefined || leafFwid === undefined || trustAnchor === undefined) {
    return { checks };
  }
  const claims = gpuClaims(evidence, device, leafFwid, revocation.status);
  return {
    checks,
    claims: {
      ...claims,
      trustAnchor: { name: trustAnchor.name, fingerprint: trustAnchor.fingerprint },
    },
  };
}

function nonceCheck(evidence: GpuEvidence, expected: Uint8Array): Check {
  if (expected.length < NONCE_LENGTH) {
    return fail(
      "nvidia.nonce",
      `The expected nonce is ${expected.length} bytes; the SPDM nonce is ${NONCE_LENGTH}.`,
    );
  }
  const nonce = expected.subarray(0, NONCE_LENGTH);
  const signed = evidence.request.nonce;
  return equalBytes(nonce, signed)
    ? pass("nvidia.nonce", `The device signed the expected nonce ${short(toHex(signed))}.`)
    : fail(
        "nvidia.nonce",
        `The device signed nonce ${short(toHex(signed))}, not the expected ${short(toHex(nonce))}: the evidence is not fresh.`,
      );
}

async function signatureCheck(
  evidence: GpuEvidence,
  leaf: X509Certificate | undefined,
): Promise<Check> {
  const key = leaf === undefined ? undefined : await p384Key(leaf);
  if (key === undefined) {
    return fail(
      "nvidia.signature",
      "The chain has no ECDSA P-384 signing certificate to check the evidence's signature with.",
    );
  }
  let valid = false;
  try {
    valid = await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-384" },
      key,
      asBufferSource(evidence.response.signature),
      asBufferSource(evidence.signedBytes),
    );
  } catch {
    valid = false;
  }
  return valid
    ? pass(
        "nvidia.signature",
        "The measurements response is signed (ECDSA P-384, SHA-384) by the device's certificate.",
      )
    : fail(
        "nvidia.signature",
        "The measurements response's signature does not verify with the device's certificate: the evidence was altered or signed by another device.",
      );
}
