import { cloisterConfigDir, describeTeeInterfaces } from "@cloister/server/tee";
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
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
