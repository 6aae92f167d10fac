import {
  CloisterError,
  equalBytes,
  type GpuAttestation,
  parseGpuEvidence,
  parseGpuEvidenceInput,
  toHex,
  utf8,
} from "@cloister/core";
import { TeeError } from "../errors.js";
import { lastLine, runTool } from "./run-tool.js";

/** The SPDM GET_MEASUREMENTS nonce is exactly 32 bytes. */
export const GPU_NONCE_LENGTH = 32;

/**
 * The arguments of `nvattest collect-evidence` for this nonce. JSON output is asked for through
 * NVAT_FORMAT rather than `--format json`: releases that have the option read that variable too,
 * and the first release, which prints JSON unconditionally, would refuse an option it does not
 * know. Only options every release has are passed (NVML is the default evidence source).
 */
export function nvattestArguments(nonce: Uint8Array): string[] {
  return ["collect-evidence", "--device", "gpu", "--nonce", toHex(nonce)];
}

export interface NvattestOptions {
  readonly timeoutMs: number;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Collects one evidence per GPU with NVIDIA's Attestation CLI. Every evidence must carry the
 * asked nonce in its SPDM request, so a tool that replays old evidence is caught here rather
 * than by a relying party.
 */
export async function collectWithNvattest(
  tool: string,
  nonce: Uint8Array,
  options: NvattestOptions,
): Promise<GpuAttestation[]> {
  checkNonce(nonce);
  const run = await runTool(tool, nvattestArguments(nonce), {
    timeoutMs: options.timeoutMs,
    env: { ...options.env, NVAT_FORMAT: "json", NVAT_LOG_LEVEL: "error" },
  });
  if (run.stdout.trim() === "") {
    const detail = lastLine(run.stderr);
    throw new TeeError(
      "gpu.provider.tool_failed",
      `nvattest collect-evidence exited with status ${run.exitCode} and printed no JSON${detail === "" ? "" : `: ${detail}`}.`,
    );
  }
  const attestations = parseNvattestOutput(run.stdout);
  for (const [i, attestation] of attestations.entries()) {
    const signed = signedNonce(attestation.evidence, i);
    if (!equalBytes(signed, nonce)) {
      throw new TeeError(
        "gpu.provider.nonce_mismatch",
        `nvattest returned evidence ${i + 1} over nonce ${toHex(signed)}, not the requested ${toHex(nonce)}.`,
      );
    }
  }
  return attestations;
}

function signedNonce(evidence: Uint8Array, i: number): Uint8Array {
  try {
    return parseGpuEvidence(evidence, { allowZeroPadding: true }).request.nonce;
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
    throw new TeeError(
      "gpu.provider.output",
      `nvattest returned evidence ${i + 1} that is not an SPDM transcript: ${error.message}`,
      { cause: error },
    );
  }
}

export function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== GPU_NONCE_LENGTH) {
    throw new TeeError(
      "gpu.provider.nonce",
      `The GPU nonce is ${nonce.length} bytes; SPDM takes exactly ${GPU_NONCE_LENGTH}.`,
    );
  }
}

/**
 * Reads what `nvattest collect-evidence` prints in JSON format: `{ evidences, result_code,
 * result_message }`, where `evidences` is the SDK's serialised evidence array (also accepted
 * bare, as nvat_gpu_evidence_serialize_json and the Python SDK write it).
 */
export function parseNvattestOutput(stdout: string): GpuAttestation[] {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    throw new TeeError("gpu.provider.output", "nvattest did not print a JSON document.");
  }
  let evidences: unknown;
  if (Array.isArray(value)) {
    evidences = value;
  } else if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    if (record.result_code !== 0) {
      const message =
        typeof record.result_message === "string" ? record.result_message : "no message";
      throw new TeeError(
        "gpu.provider.collection_failed",
        `nvattest reported result code ${String(record.result_code)} (${message.slice(0, 200)}).`,
      );
    }
    evidences = record.evidences;
  }
  if (!Array.isArray(evidences) || evidences.length === 0) {
    throw new TeeError("gpu.provider.output", "nvattest's JSON has no non-empty evidences array.");
  }
  try {
    return parseGpuEvidenceInput(JSON.stringify(evidences)).map((input) => {
      if (input.certChain === undefined) {
        throw new TeeError(
          "gpu.provider.output",
          "nvattest returned an evidence without a certificate chain.",
        );
      }
      return { evidence: input.evidence, certificates: utf8(input.certChain) };
    });
  } catch (error) {
    if (error instanceof TeeError || !(error instanceof CloisterError)) throw error;
    throw new TeeError(
      "gpu.provider.output",
      `nvattest's evidence is malformed: ${error.message}`,
      {
        cause: error,
      },
    );
  }
}
