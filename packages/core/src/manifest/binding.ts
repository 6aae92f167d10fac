import type { GpuAttestation } from "../attest/nvidia/attestation.js";
import { gpuSetDigest } from "../attest/nvidia/binding.js";
import { concat, sha256, sha512, toHex, utf8 } from "../bytes.js";
import { canonicalJson } from "./canonical-json.js";
import { MANIFEST_SCHEMA } from "./manifest.js";

/**
 * report_data = SHA-512("cloister/manifest/v1" || JCS(manifest) [|| nonce]), or, when the
 * workload attests GPUs, SHA-512("cloister/manifest+gpus/v1" || JCS(manifest) ||
 * gpuSetDigest(gpus) [|| nonce]) (see attest/nvidia/binding.ts). The two labels differ before
 * either ends and JCS output is self-delimiting, so no input of one form can be read as the
 * other: a GPU-less workload cannot be made to vouch for a GPU set by a crafted nonce.
 * Computed over the manifest exactly as received (unknown fields included), so a newer server's
 * additions are bound too, and a caller who drops them cannot be fooled.
 */
export async function manifestReportData(
  manifest: unknown,
  nonce?: Uint8Array,
  gpus?: readonly GpuAttestation[],
): Promise<Uint8Array> {
  const parts =
    gpus === undefined
      ? [utf8(MANIFEST_SCHEMA), utf8(canonicalJson(manifest))]
      : [GPU_LABEL, utf8(canonicalJson(manifest)), await gpuSetDigest(gpus)];
  if (nonce !== undefined) parts.push(nonce);
  return sha512(concat(parts));
}

const GPU_LABEL = utf8("cloister/manifest+gpus/v1");

/** "sha256:<hex>" over the canonical manifest; receipts name the manifest by it. */
export async function manifestDigest(manifest: unknown): Promise<string> {
  return `sha256:${toHex(await sha256(utf8(canonicalJson(manifest))))}`;
}
