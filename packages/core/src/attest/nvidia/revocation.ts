import { CloisterError } from "../../errors.js";
import { fail, pass, warn } from "../checks.js";
import type { OcspStatus } from "../pki/ocsp.js";
import type { X509Certificate } from "../pki/x509.js";
import type { Check } from "../types.js";
import { commonName } from "./chain.js";

export type GpuRevocationStatus = "good" | "revoked" | "unknown";

export interface GpuRevocation {
  readonly status: GpuRevocationStatus;
  /** nvidia.revocation: pass when good, fail when revoked, warn when unknown. */
  readonly check: Check;
}

/** One certificate's standing after every supplied response was tried against it. */
type Standing =
  | { readonly kind: "good"; readonly status: OcspStatus }
  | { readonly kind: "revoked"; readonly status: Extract<OcspStatus, { status: "revoked" }> }
  | {
      readonly kind: "unknown";
      readonly why: string;
      /** Whether some response was about this certificate (not merely unreadable). */
      readonly named: boolean;
    };

const CODE = "nvidia.revocation";

/**
 * The OCSP status of a verified device chain (leaf first, root last) from the responses the
 * caller supplied (DER OCSPResponses, in any order): each certificate below the root must have
 * an authentic, current response saying good. A GPU's leaf is the exception: the GPU derives it
 * at boot, certified by its device identity certificate, so NVIDIA's responder does not know
 * it (nvtrust skips it too); it counts only when a response for it is supplied. Revoked
 * anywhere fails; a certificate with no usable response leaves revocation unknown.
 */
export async function gpuRevocation(
  certificates: readonly X509Certificate[] | undefined,
  responses: readonly Uint8Array[],
  options: { readonly now: Date; readonly kind: "gpu" | "switch" | undefined },
): Promise<GpuRevocation> {
  if (certificates === undefined) {
    return unknown("The chain did not verify to a trusted root, so no OCSP response was checked.");
  }
  if (responses.length === 0) {
    return unknown(
      "No OCSP response was checked, so whether a certificate in the chain was revoked is unknown.",
    );
  }
  const standings: { readonly name: string; readonly standing: Standing }[] = [];
  for (let i = 0; i < certificates.length - 1; i++) {
    const certificate = certificates[i] as X509Certificate;
    const issuer = certificates[i + 1] as X509Certificate;
    const standing = await standingOf(certificate, issuer, responses, options.now);
    const optional = i === 0 && options.kind === "gpu";
    if (optional && standing.kind === "unknown" && !standing.named) continue;
    standings.push({ name: nameOf(i, certificate), standing });
  }
  return verdict(standings, options.now);
}

/** Failures that come before a response is matched to a certificate: they name none. */
const UNMATCHED = new Set([
  "ocsp.cert_id",
  "ocsp.malformed",
  "ocsp.response_status",
  "ocsp.response_type",
]);

async function standingOf(
  certificate: X509Certificate,
  issuer: X509Certificate,
  responses: readonly Uint8Array[],
  now: Date,
): Promise<Standing> {
  // pkijs is large and only needed when responses are supplied: bundlers load it on demand.
  const { verifyOcspResponse } = await import("../pki/ocsp.js");
  let good: Standing | undefined;
  let problem: string | undefined;
  let named = false;
  for (const response of responses) {
    let status: OcspStatus;
    try {
      status = await verifyOcspResponse(response, { certificate, issuer, now });
    } catch (error) {
      if (!(error instanceof CloisterError)) throw error;
      if (error.code !== "ocsp.cert_id") problem ??= `${error.code}: ${error.message}`;
      named ||= !UNMATCHED.has(error.code);
      continue;
    }
    // An authentic revocation outweighs any other response, however fresh that one is.
    if (status.status === "revoked") return { kind: "revoked", status };
    if (status.status === "good") good ??= { kind: "good", status };
    else problem ??= "its issuer's OCSP responder does not know it (status unknown)";
    named = true;
  }
  return good ?? { kind: "unknown", why: problem ?? "no OCSP response names it", named };
}

function verdict(
  standings: readonly { readonly name: string; readonly standing: Standing }[],
  now: Date,
): GpuRevocation {
  const revoked = standings.flatMap(({ name, standing }) =>
    standing.kind === "revoked"
      ? [
          `${name} was revoked at ${standing.status.revokedAt.toISOString()}${standing.status.reason === undefined ? "" : ` (${standing.status.reason})`}`,
        ]
      : [],
  );
  if (revoked.length > 0) {
    return {
      status: "revoked",
      check: fail(CODE, `${revoked.join("; ")}, per its issuer's OCSP response.`),
    };
  }
  const unknowns = standings.flatMap(({ name, standing }) =>
    standing.kind === "unknown" ? [`${name}: ${standing.why}`] : [],
  );
  if (unknowns.length > 0) {
    return unknown(`Revocation is unknown: ${unknowns.join("; ")}.`);
  }
  if (standings.length === 0) {
    return unknown(
      "No certificate of the chain has an OCSP response, so whether one was revoked is unknown.",
    );
  }
  return {
    status: "good",
    check: pass(
      CODE,
      `Every certificate's OCSP status is good at ${now.toISOString()} (${standings.map((s) => s.name).join(", ")}).`,
    ),
  };
}

function unknown(message: string): GpuRevocation {
  return { status: "unknown", check: warn(CODE, message) };
}

function nameOf(index: number, certificate: X509Certificate): string {
  return `certificate ${index + 1} ${JSON.stringify(commonName(certificate).slice(0, 80))}`;
}
