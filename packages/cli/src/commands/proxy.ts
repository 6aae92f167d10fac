import { connect } from "@cloister/client";
import { startProxy } from "@cloister/client/proxy";
import { CloisterError } from "@cloister/core";
import { cloisterConfigDir } from "@cloister/server/tee";
import { Command } from "@commander-js/extra-typings";
import {
  callerCollateral,
  type PolicyFlags,
  policyOptions,
  resolvePolicy,
} from "../policy-flags.js";
import { summaryLine } from "../report.js";
import { targetUrl } from "../target.js";

export function proxyCommand(): Command {
  const command = new Command("proxy")
    .description(
      "Serve a local plaintext OpenAI-compatible endpoint that verifies the workload and encrypts every request to it.",
    )
    .option(
      "--listen <host:port>",
      "where to listen (loopback only unless --force-non-loopback)",
      "127.0.0.1:8081",
    )
    .option(
      "--upstream <url>",
      "the Cloister workload (default: the one `cloister serve` runs on this machine)",
    )
    .option(
      "--force-non-loopback",
      "listen on a non-loopback address anyway (anyone who reaches it reads prompts and answers)",
    );
  for (const option of policyOptions) command.addOption(option);
  return command
    .addHelpText(
      "after",
      "\nThen point any OpenAI client at it, e.g.:\n  OPENAI_BASE_URL=http://127.0.0.1:8081/v1 OPENAI_API_KEY=unused python my_app.py",
    )
    .action(async (options) => {
      const { host, port } = parseListen(options.listen);
      const url = await targetUrl(options.upstream);
      const policy = await resolvePolicy(options as PolicyFlags, cloisterConfigDir());
      const session = await connect(url, {
        policy,
        collateral: await callerCollateral(options as PolicyFlags),
      });
      const proxy = await startProxy({
        session,
        host,
        port,
        allowNonLoopback: options.forceNonLoopback === true,
      });
      process.stdout.write(
        `${summaryLine(session.attestation, session.manifest)}\nproxy listening on ${proxy.url}/v1 -> ${url} (sealed with OHTTP)\n`,
      );
      const stop = async () => {
        await proxy.close();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}

function parseListen(listen: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(listen);
  if (match === null)
    throw new CloisterError("cli.listen", `--listen must be host:port, not "${listen}".`);
  return { host: (match[1] as string).replace(/^\[|\]$/g, ""), port: Number(match[2]) };
}
