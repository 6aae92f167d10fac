import {
  type AttestationResult,
  type CheckStatus,
  type GpuResult,
  short,
  type WorkloadManifest,
} from "@cloister/core";

export const MARK: Record<CheckStatus, string> = {
  pass: "✔ pass",
  warn: "! warn",
  fail: "✘ fail",
  skip: "- skip",
};

export const INSECURE_NOTICE = "INSECURE: simulated TEE, nothing is protected by hardware";

/** The one line `cloister chat` prints before the answer. */
export function summaryLine(
  result: AttestationResult,
  manifest: WorkloadManifest,
  modelId?: string,
): string {
  const parts = [
    `verified ${result.platform}${result.insecure ? ` (${INSECURE_NOTICE})` : ""}`,
    ...(result.gpus === undefined ? [] : [`${result.gpus.length} GPU(s) bound`]),
    `measurement ${short(result.claims?.measurement ?? "unknown")}`,
  ];
  const model =
    manifest.models.find((m) => m.id === modelId) ?? manifest.models.find((m) => m.kind === "chat");
  if (model !== undefined) {
    parts.push(
      `model ${model.id} ${short(model.digest)}${model.signer === undefined ? "" : ` signed by ${model.signer}`}`,
    );
  }
  parts.push(`verdict ${result.verdict}`);
  return parts.join(" · ");
}

/** The full per-check verdict `cloister attest` prints. */
export function checksReport(
  url: string,
  result: AttestationResult,
  manifest: WorkloadManifest | undefined,
): string {
  const width = Math.max(...result.checks.map((c) => c.code.length));
  const lines = [
    `Workload   ${url}`,
    `Platform   ${result.platform}${result.insecure ? `  (${INSECURE_NOTICE})` : ""}`,
    `Verdict    ${result.verdict}`,
    ...(result.gpus ?? []).map((gpu) => `GPU ${gpu.index}      ${gpuLine(gpu)}`),
    "",
    ...result.checks.map((c) => `  ${MARK[c.status]}  ${c.code.padEnd(width)}  ${c.message}`),
  ];
  if (manifest !== undefined) {
    lines.push(
      "",
      `Manifest   Cloister ${manifest.cloister}`,
      `  code     ${manifest.code}`,
      `  config   ${manifest.config}`,
      ...manifest.models.map(
        (m) =>
          `  model    ${m.id} (${m.kind}) ${m.digest}${m.signer === undefined ? "" : ` signed by ${m.signer}`}`,
      ),
    );
  }
  return lines.join("\n");
}

/** One GPU as `cloister attest` lists it: model, firmware, CC mode and its own verdict. */
export function gpuLine(gpu: GpuResult): string {
  const c = gpu.claims;
  const what =
    c === undefined
      ? "evidence did not verify"
      : `${c.architecture} ${c.chip} driver ${c.driverVersion ?? "?"} VBIOS ${c.vbiosVersion ?? "?"}`;
  return `${what}, CC ${gpu.ccMode ?? "not established"}, ${gpu.verdict}`;
}
