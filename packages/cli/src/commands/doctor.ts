import { cloisterConfigDir, describeTeeInterfaces, type GpuReport } from "@cloister/server/tee";
import { Command } from "@commander-js/extra-typings";

export function doctorCommand(): Command {
  return new Command("doctor")
    .description(
      "Show which TEE interfaces this machine has and which evidence provider `cloister serve` would use.",
    )
    .option("--json", "print the findings as JSON")
    .action(async (options) => {
      const found = await describeTeeInterfaces({ configDir: cloisterConfigDir() });
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
        return;
      }
      const yes = (present: boolean) => (present ? "present" : "absent ");
      const lines = [
        `configfs-tsm  ${yes(found.configfsTsm.present)}  ${found.configfsTsm.path}${found.configfsTsm.tsmProvider === undefined ? "" : `  provider ${found.configfsTsm.tsmProvider} (${found.configfsTsm.platform})`}${found.configfsTsm.problem === undefined ? "" : `  — ${found.configfsTsm.problem}`}`,
        `gramine       ${yes(found.gramine.present)}  ${found.gramine.path}${found.gramine.attestationType === undefined ? "" : `  type ${found.gramine.attestationType}`}${found.gramine.problem === undefined ? "" : `  — ${found.gramine.problem}`}`,
        ...found.paths.map((p) => `              ${yes(p.present)}  ${p.path}  (${p.meaning})`),
        `simulated     root ${found.simulated.rootExists ? "created" : "not yet created"} in ${found.simulated.configDir}`,
        `              relying parties pin it with --allow-simulated ${found.simulated.pemPath}`,
        "",
        `cloister serve would use: ${found.choice.interface} (${found.choice.platform}). ${found.choice.reason}`,
        ...found.hints.map((h) => `hint: ${h}`),
        "",
        ...gpuLines(found.gpus),
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}

/** The confidential-GPU section: what was found, its CC state, and whether evidence came back. */
function gpuLines(report: GpuReport): string[] {
  const hints = report.hints.map((h) => `hint: ${h}`);
  if (report.gpus.length === 0) {
    return [`gpus          none — ${report.problem ?? "no NVIDIA GPU found"}`, ...hints];
  }
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const collection =
    report.collection.status === "ok"
      ? `works (${plural(report.collection.count, "evidence")} over a random nonce)`
      : report.collection.status === "failed"
        ? `FAILED — ${report.collection.problem}`
        : "not tried";
  return [
    `gpus          ${plural(report.gpus.length, "NVIDIA GPU")}${report.driverVersion === undefined ? "" : `, driver ${report.driverVersion}`}`,
    ...report.gpus.map((g) => `              ${g.busId}  ${g.name}`),
    `              CC mode ${report.ccMode}, ready state ${report.readyState}`,
    `              nvidia-smi ${report.tools.nvidiaSmi ?? "not found"}, nvattest ${report.tools.nvattest ?? "not found"}`,
    `              evidence collection ${collection}`,
    report.provider === undefined
      ? `cloister serve would attest no GPU${report.problem === undefined ? "" : `: ${report.problem}`}.`
      : `cloister serve would attest the GPUs with ${report.provider}.`,
    ...hints,
  ];
}
