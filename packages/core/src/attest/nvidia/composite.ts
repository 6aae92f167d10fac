import { fromBase64Url, fromUtf8 } from "../../bytes.js";
import { CloisterError } from "../../errors.js";
import { verdictOf } from "../appraise.js";
import { fail, pass, pinnedHex, skip } from "../checks.js";
import type { Check, Collateral, Verdict } from "../types.js";
import { parseGpuEvidence } from "./abi/index.js";
import { appraiseGpu, gpuCcMode } from "./appraise.js";
import type { GpuAttestation } from "./attestation.js";
import { gpuNonce } from "./binding.js";
import type { GpuClaims } from "./claims.js";
import { NVIDIA_COLLATERAL } from "./formats.js";
import type { NvidiaPolicy } from "./policy.js";
import { compareGpuWithRims, rimsForGpu } from "./rim/gpu.js";
import type { RimVerifier, VerifiedRim } from "./rim/types.js";
import { verifyGpuEvidence } from "./verify.js";

/** One GPU's outcome, beside the CPU TEE's: what `cloister attest` lists per GPU. */
export interface GpuResult {
  readonly index: number;
  readonly verdict: Verdict;
  readonly checks: readonly Check[];
  /** Present only when the GPU's evidence verified. */
  readonly claims?: GpuClaims;
  /** The CC mode: signed by the GPU (its feature flag) or reported by the attested workload. */
  readonly ccMode?: string;
}

export interface GpuSetOptions {
  /** The manifest the CPU evidence binds: the GPU nonce is derived from it. */
  readonly manifest: unknown;
  /** The caller's nonce, when it asked for fresh evidence. */
  readonly nonce?: Uint8Array;
  readonly now: Date;
  readonly policy?: NvidiaPolicy;
  readonly collateral?: Collateral;
  /** Checks RIM signatures (XMLDSig); Node callers pass @cloister/client's nodeRimVerifier(). */
  readonly rimVerifier?: RimVerifier;
}

/**
 * The GPUs of a workload, after its CPU evidence: each GPU's evidence must verify for the nonce
 * derived from this caller's nonce and this workload's manifest, then meet the policy. The
 * set's binding to the CPU evidence is the CPU report-data check (manifest/binding.ts), which
 * the caller runs. Never throws for bad evidence: every problem is a failed check.
 */
export async function verifyGpuSet(
  gpus: readonly GpuAttestation[] | undefined,
  options: GpuSetOptions,
): Promise<{ checks: Check[]; results: GpuResult[] }> {
  const policy = options.policy ?? {};
  const set = gpus ?? [];
  const checks: Check[] = [];
  if (policy.gpus !== undefined) {
    checks.push(
      set.length === policy.gpus
        ? pass("nvidia.gpus", `The workload attests ${set.length} GPU(s), as the policy requires.`)
        : fail(
            "nvidia.gpus",
            `The workload attests ${set.length} GPU(s); the policy requires ${policy.gpus}.`,
          ),
    );
  }
  if (set.length === 0) return { checks, results: [] };
  const nonce = await gpuNonce(options.manifest, options.nonce);
  const rims = await verifiedRims(options);
  const ocsp = ocspResponses(options.collateral);
  if (ocsp === undefined) {
    checks.push(
      fail(
        "nvidia.ocsp.malformed",
        `Collateral "${NVIDIA_COLLATERAL.ocsp}" is not a JSON list of base64 OCSP responses.`,
      ),
    );
  }
  const results: GpuResult[] = [];
  for (const [index, gpu] of set.entries()) {
    const own = await verifyOne(gpu, nonce, policy, rims, ocsp ?? [], options.now);
    results.push({ index, ...own, verdict: verdictOf(own.checks) });
    checks.push(...own.checks.map((c) => ({ ...c, message: `GPU ${index}: ${c.message}` })));
  }
  return { checks, results };
}

type Rims =
  | { readonly kind: "none" }
  | { readonly kind: "verified"; readonly rims: readonly VerifiedRim[] }
  | { readonly kind: "failed"; readonly check: Check };

async function verifyOne(
  gpu: GpuAttestation,
  nonce: Uint8Array,
  policy: NvidiaPolicy,
  rims: Rims,
  ocsp: readonly Uint8Array[],
  now: Date,
): Promise<Omit<GpuResult, "index" | "verdict">> {
  let verification: Awaited<ReturnType<typeof verifyGpuEvidence>>;
  try {
    verification = await verifyGpuEvidence(parseGpuEvidence(gpu.evidence), gpu.certificates, {
      now,
      nonce,
      ocsp,
      ...(policy.simulatedRoots === undefined ? {} : { simulatedRoots: policy.simulatedRoots }),
    });
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
    return { checks: [fail(error.code, error.message)] };
  }
  const claims = verification.claims;
  if (claims === undefined) return { checks: [...verification.checks] };
  const ccMode = gpuCcMode(claims, gpu.ccMode);
  return {
    checks: [
      ...verification.checks,
      ...pinnedHex(
        "nvidia.policy.device_id",
        "device UEID",
        claims.ueid ?? "(none)",
        policy.deviceIds,
      ),
      ...appraiseGpu(claims, policy, gpu.ccMode),
      ...rimChecks(claims, rims, policy.requireRims === true),
    ],
    claims,
    ...(ccMode === undefined ? {} : { ccMode }),
  };
}

/**
 * The OCSP responses the collateral carries for every GPU: each response names the certificate
 * it is about, so one list serves the whole set. Undefined when the collateral is malformed.
 */
function ocspResponses(collateral: Collateral | undefined): Uint8Array[] | undefined {
  const text = collateral?.[NVIDIA_COLLATERAL.ocsp];
  if (text === undefined) return [];
  let list: unknown;
  try {
    list = JSON.parse(typeof text === "string" ? text : fromUtf8(text));
  } catch {
    return undefined;
  }
  if (!Array.isArray(list)) return undefined;
  const responses: Uint8Array[] = [];
  for (const item of list) {
    const der =
      typeof item === "string" && /^[A-Za-z0-9+/]*={0,2}$/.test(item)
        ? fromBase64Url(item.replaceAll("+", "-").replaceAll("/", "_"))
        : undefined;
    if (der === undefined || der.length === 0) return undefined;
    responses.push(der);
  }
  return responses;
}

async function verifiedRims(options: GpuSetOptions): Promise<Rims> {
  const text = options.collateral?.[NVIDIA_COLLATERAL.rims];
  if (text === undefined || options.rimVerifier === undefined) return { kind: "none" };
  let documents: unknown;
  try {
    documents = JSON.parse(typeof text === "string" ? text : fromUtf8(text));
  } catch {
    documents = undefined;
  }
  if (!Array.isArray(documents) || !documents.every((d) => typeof d === "string")) {
    return {
      kind: "failed",
      check: fail(
        "nvidia.rim.malformed",
        `Collateral "${NVIDIA_COLLATERAL.rims}" is not a JSON list of RIM documents.`,
      ),
    };
  }
  try {
    const verifier = options.rimVerifier;
    return {
      kind: "verified",
      rims: await Promise.all(documents.map((xml) => verifier.verify(xml, { now: options.now }))),
    };
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
    return { kind: "failed", check: fail(error.code, error.message) };
  }
}

/** The GPU's driver and VBIOS RIMs (chosen by chip and version) against its measurements. */
function rimChecks(claims: GpuClaims, rims: Rims, required: boolean): Check[] {
  const missing = (why: string) =>
    required ? [fail("nvidia.rim.missing", why)] : [skip("nvidia.rim.measurements", why)];
  if (rims.kind === "failed") return [rims.check];
  if (rims.kind === "none") {
    return missing("No verified RIMs were available to compare the measurements with.");
  }
  const { driver, vbios } = rimsForGpu(
    claims,
    rims.rims.map((r) => r.rim),
  );
  if (driver === undefined || vbios === undefined) {
    return missing(
      `No RIM matches the ${claims.chip} ${driver === undefined ? `driver ${claims.driverVersion ?? "(unknown)"}` : `VBIOS ${claims.vbiosVersion ?? "(unknown)"}`}.`,
    );
  }
  return compareGpuWithRims(claims, [driver, vbios]);
}
