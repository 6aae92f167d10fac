import { connect } from "@cloister/client";
import { CloisterError } from "@cloister/core";
import { cloisterConfigDir } from "@cloister/server/tee";
import { Command, Option } from "@commander-js/extra-typings";
import {
  callerCollateral,
  type PolicyFlags,
  policyOptions,
  resolvePolicy,
} from "../policy-flags.js";
import { summaryLine } from "../report.js";
import { sseData } from "../sse.js";
import { targetUrl, urlOption } from "../target.js";
import { integer } from "./serve.js";

export function chatCommand() {
  const command = new Command("chat")
    .description(
      "Verify the workload, then send one prompt end-to-end encrypted and print the answer.",
    )
    .argument("<prompt>", "what to say")
    .addOption(urlOption)
    .option("--model <id>", "the model to ask (default: the workload's first chat model)")
    .option("--system <text>", "a system message to send first")
    .option(
      "--no-stream",
      "wait for the whole answer instead of streaming tokens as they are sealed",
    )
    .option("--max-tokens <n>", "upper bound on the answer's length in tokens", integer, 200)
    .addOption(
      new Option("--temperature <t>", "sampling temperature (0 is deterministic)")
        .argParser(Number)
        .default(0.8),
    )
    .option("--json", "print the OpenAI response JSON (non-streaming) instead of the text");
  for (const option of policyOptions) command.addOption(option);
  return command
    .addHelpText(
      "after",
      '\nThe summary line (platform, measurement, model digest, verdict) goes to stderr; the answer to stdout.\n\nExample:\n  cloister chat "Call me Ishmael"',
    )
    .action(async (prompt, options) => {
      const url = await targetUrl(options.url);
      const policy = await resolvePolicy(options as PolicyFlags, cloisterConfigDir());
      let receiptSeq: number | undefined;
      const session = await connect(url, {
        policy,
        collateral: await callerCollateral(options as PolicyFlags),
        onReceipt: (r) => (receiptSeq = r.seq),
      });
      process.stderr.write(
        `${summaryLine(session.attestation, session.manifest, options.model)}\n`,
      );
      const stream = options.stream && options.json !== true;
      const response = await session.fetch(new URL("/v1/chat/completions", url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          ...(options.model === undefined ? {} : { model: options.model }),
          messages: [
            ...(options.system === undefined ? [] : [{ role: "system", content: options.system }]),
            { role: "user", content: prompt },
          ],
          max_tokens: options.maxTokens,
          temperature: options.temperature,
          stream,
        }),
      });
      if (!response.ok || response.body === null) {
        const error = (await response.json().catch(() => ({}))) as {
          error?: { message?: string; code?: string };
        };
        throw new CloisterError(
          `api.${error.error?.code ?? response.status}`,
          error.error?.message ?? `The workload answered ${response.status}.`,
        );
      }
      if (!stream) {
        const body = (await response.json()) as { choices: { message: { content: string } }[] };
        process.stdout.write(
          options.json === true
            ? `${JSON.stringify(body, null, 2)}\n`
            : `${body.choices[0]?.message.content ?? ""}\n`,
        );
      } else {
        for await (const data of sseData(response.body)) {
          const chunk = JSON.parse(data) as {
            choices?: { delta?: { content?: string } }[];
            error?: { message: string };
          };
          if (chunk.error !== undefined) throw new CloisterError("api.stream", chunk.error.message);
          process.stdout.write(chunk.choices?.[0]?.delta?.content ?? "");
        }
        process.stdout.write("\n");
      }
      process.stderr.write(
        `receipt #${receiptSeq} verified: signed by the attested workload over this request and answer\n`,
      );
    });
}
