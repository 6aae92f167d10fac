import { concat, sha256, utf8 } from "../../bytes.js";
import { canonicalJson } from "../../manifest/canonical-json.js";
import type { GpuAttestation } from "./attestation.js";

/**
 * The binding of GPUs to the CPU TEE, in two directions:
 *
 * - the workload asks each GPU for evidence over gpuNonce(manifest, nonce), a value derived from
 *   the caller's nonce AND the workload's own manifest (its keys). Evidence a GPU produced for
 *   another workload, even for the same caller nonce, carries another nonce and is refused;
 * - the CPU evidence's report data commits to gpuSetDigest(gpus) (manifest/binding.ts), so the
 *   GPU set a caller receives is exactly the one the attested workload collected: no GPU can be
 *   swapped, dropped, added or replayed without breaking the CPU binding.
 */
const NONCE_LABEL = utf8("cloister/gpu-nonce/v1");
const SET_LABEL = utf8("cloister/gpus/v1");

/** The 32-byte SPDM nonce the workload's GPUs sign for this caller. */
export async function gpuNonce(manifest: unknown, nonce?: Uint8Array): Promise<Uint8Array> {
  const manifestHash = await sha256(utf8(canonicalJson(manifest)));
  return sha256(concat([NONCE_LABEL, manifestHash, nonce ?? new Uint8Array(0)]));
}

/**
 * SHA-256 over the GPU set in order: for each GPU its evidence, its certificates and the CC
 * mode the workload observed, each length-prefixed so that no two sets encode alike.
 */
export async function gpuSetDigest(gpus: readonly GpuAttestation[]): Promise<Uint8Array> {
  const parts: Uint8Array[] = [SET_LABEL, u32(gpus.length)];
  for (const gpu of gpus) {
    const mode = utf8(gpu.ccMode ?? "");
    parts.push(u32(gpu.evidence.length), gpu.evidence);
    parts.push(u32(gpu.certificates.length), gpu.certificates);
    parts.push(u32(mode.length), mode);
  }
  return sha256(concat(parts));
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}
