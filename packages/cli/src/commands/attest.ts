import { fetchAttestation } from "@cloister/client";
import { fromHex, NONCE_MAX_BYTES, NONCE_MIN_BYTES, toHex } from "@cloister/core";
import { cloisterConfigDir } from "@cloister/server/tee";
import { Command, InvalidArgumentError } from "@commander-js/extra-typings";
import {
  callerCollateral,
  type PolicyFlags,
  policyOptions,
  resolvePolicy,
} from "../policy-flags.js";
import { checksReport } from "../report.js";
import { targetUrl } from "../target.js";
import { attestVerifyCommand } from "./attest-verify.js";

export function attestCommand() {
  const command = new Command("attest")
    .description(
      "Fetch a workload's attestation and print the full per-check verdict (exit status 1 when refused).",
    )
    .argument(
      "[url]",
      "the Cloister workload (default: the one `cloister serve` runs on this machine)",
    )
    .option(
      "--nonce <hex>",
      `ask for fresh evidence bound to this nonce (${NONCE_MIN_BYTES}-${NONCE_MAX_BYTES} bytes of hex; default: a random one)`,
      nonce,
    )
    .option(
      "--no-fresh",
      "accept the workload's standing evidence instead of asking for fresh evidence",
    )
    .option("--json", "print the result as JSON")
    // `attest verify --json` is the subcommand's flag, not this one (the program is positional too).
    .enablePositionalOptions()
    .addCommand(attestVerifyCommand());
  for (const option of policyOptions) command.addOption(option);
  return command.action(async (url, options) => {
    const target = await targetUrl(url);
    const policy = await resolvePolicy(options as PolicyFlags, cloisterConfigDir());
    const chosen =
      options.fresh === false
        ? undefined
        : (options.nonce ?? crypto.getRandomValues(new Uint8Array(32)));
    const { result, manifest } = await fetchAttestation(target, {
      policy,
      collateral: await callerCollateral(options as PolicyFlags),
      ...(chosen === undefined ? {} : { nonce: chosen }),
    });
    if (options.json === true) {
      const claims =
        result.claims === undefined
          ? undefined
          : { ...result.claims, reportData: toHex(result.claims.reportData) };
      process.stdout.write(
        `${JSON.stringify({ url: target, ...result, claims, manifest }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(`${checksReport(target, result, manifest)}\n`);
    }
    if (result.verdict === "contraindicated") process.exitCode = 1;
  });
}

function nonce(value: string): Uint8Array {
  const bytes = fromHex(value);
  if (bytes === undefined || bytes.length < NONCE_MIN_BYTES || bytes.length > NONCE_MAX_BYTES) {
    throw new InvalidArgumentError(
      `The nonce must be ${NONCE_MIN_BYTES} to ${NONCE_MAX_BYTES} bytes of hex.`,
    );
  }
  return bytes;
}
