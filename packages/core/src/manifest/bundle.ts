import { GPU_CC_MODES, type GpuAttestation, type GpuCcMode } from "../attest/nvidia/attestation.js";
import type { Collateral, Evidence, Platform } from "../attest/types.js";
import { PLATFORMS } from "../attest/types.js";
import { fromBase64Url, fromHex, toBase64Url, toHex } from "../bytes.js";
import { ParseError } from "../errors.js";

/**
 * What `GET /v1/attestation` returns: the evidence, the collateral the workload has, and the
 * manifest the evidence binds. Nothing in it is trusted until verifyWorkload() says so.
 */
export interface AttestationBundle {
  readonly evidence: Evidence;
  readonly collateral: Collateral;
  /** The manifest exactly as received; the binding is computed over it. */
  readonly manifest: unknown;
  /** The caller's nonce, echoed when the evidence was produced for it. */
  readonly nonce?: Uint8Array;
  /** The workload's GPUs, each attested for gpuNonce(manifest, nonce); bound into the evidence. */
  readonly gpus?: readonly GpuAttestation[];
}

/** The JSON wire form. Binary values are base64url; collateral says which of its values are binary. */
export interface AttestationBundleJson {
  readonly version: 1;
  readonly evidence: {
    readonly platform: Platform;
    readonly format: string;
    readonly data: string;
  };
  readonly collateral: Readonly<
    Record<string, { readonly base64url: string } | { readonly text: string }>
  >;
  readonly manifest: unknown;
  readonly nonce?: string;
  readonly gpus?: readonly {
    readonly evidence: string;
    readonly certificates: string;
    readonly ccMode?: GpuCcMode;
  }[];
}

export function encodeBundle(bundle: AttestationBundle): AttestationBundleJson {
  const collateral: Record<string, { base64url: string } | { text: string }> = {};
  for (const [name, value] of Object.entries(bundle.collateral)) {
    collateral[name] =
      typeof value === "string" ? { text: value } : { base64url: toBase64Url(value) };
  }
  return {
    version: 1,
    evidence: {
      platform: bundle.evidence.platform,
      format: bundle.evidence.format,
      data: toBase64Url(bundle.evidence.data),
    },
    collateral,
    manifest: bundle.manifest,
    ...(bundle.nonce === undefined ? {} : { nonce: toHex(bundle.nonce) }),
    ...(bundle.gpus === undefined
      ? {}
      : {
          gpus: bundle.gpus.map((gpu) => ({
            evidence: toBase64Url(gpu.evidence),
            certificates: toBase64Url(gpu.certificates),
            ...(gpu.ccMode === undefined ? {} : { ccMode: gpu.ccMode }),
          })),
        }),
  };
}

export function parseBundle(value: unknown): AttestationBundle {
  const json = record(value, "attestation bundle");
  if (json.version !== 1) throw new ParseError("bundle.parse", "bundle.version", "must be 1");
  const evidence = record(json.evidence, "bundle.evidence");
  if (!PLATFORMS.includes(evidence.platform as Platform)) {
    throw new ParseError(
      "bundle.parse",
      "bundle.evidence.platform",
      `must be one of ${PLATFORMS.join(", ")}`,
    );
  }
  if (typeof evidence.format !== "string")
    throw new ParseError("bundle.parse", "bundle.evidence.format", "must be a string");
  const data = typeof evidence.data === "string" ? fromBase64Url(evidence.data) : undefined;
  if (data === undefined)
    throw new ParseError("bundle.parse", "bundle.evidence.data", "must be base64url");
  const collateral: Record<string, Uint8Array | string> = {};
  for (const [name, entry] of Object.entries(record(json.collateral ?? {}, "bundle.collateral"))) {
    const item = record(entry, `bundle.collateral.${name}`);
    if (typeof item.text === "string") {
      collateral[name] = item.text;
    } else {
      const bytes = typeof item.base64url === "string" ? fromBase64Url(item.base64url) : undefined;
      if (bytes === undefined) {
        throw new ParseError(
          "bundle.parse",
          `bundle.collateral.${name}`,
          "must hold `text` or `base64url`",
        );
      }
      collateral[name] = bytes;
    }
  }
  let nonce: Uint8Array | undefined;
  if (json.nonce !== undefined) {
    nonce = typeof json.nonce === "string" ? fromHex(json.nonce) : undefined;
    if (nonce === undefined) throw new ParseError("bundle.parse", "bundle.nonce", "must be hex");
  }
  const gpus = json.gpus === undefined ? undefined : parseGpus(json.gpus);
  return {
    evidence: { platform: evidence.platform as Platform, format: evidence.format, data },
    collateral,
    manifest: json.manifest,
    ...(nonce === undefined ? {} : { nonce }),
    ...(gpus === undefined ? {} : { gpus }),
  };
}

function parseGpus(value: unknown): GpuAttestation[] {
  if (!Array.isArray(value)) throw new ParseError("bundle.parse", "bundle.gpus", "must be a list");
  return value.map((entry, i) => {
    const gpu = record(entry, `bundle.gpus[${i}]`);
    const bytes = (field: "evidence" | "certificates") => {
      const decoded = typeof gpu[field] === "string" ? fromBase64Url(gpu[field]) : undefined;
      if (decoded === undefined) {
        throw new ParseError("bundle.parse", `bundle.gpus[${i}].${field}`, "must be base64url");
      }
      return decoded;
    };
    if (gpu.ccMode !== undefined && !GPU_CC_MODES.includes(gpu.ccMode as GpuCcMode)) {
      throw new ParseError(
        "bundle.parse",
        `bundle.gpus[${i}].ccMode`,
        `must be one of ${GPU_CC_MODES.join(", ")}`,
      );
    }
    return {
      evidence: bytes("evidence"),
      certificates: bytes("certificates"),
      ...(gpu.ccMode === undefined ? {} : { ccMode: gpu.ccMode as GpuCcMode }),
    };
  });
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ParseError("bundle.parse", field, "must be a JSON object");
  }
  return value as Record<string, unknown>;
}
