import { createRequire } from "node:module";
import { Command } from "@commander-js/extra-typings";
import { attestCommand } from "./commands/attest.js";
import { chatCommand } from "./commands/chat.js";
import { deviceCommand } from "./commands/device.js";
import { doctorCommand } from "./commands/doctor.js";
import { modelCommand } from "./commands/model.js";
import { proxyCommand } from "./commands/proxy.js";
import { serveCommand } from "./commands/serve.js";
import { reportError } from "./fail.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

const program = new Command("cloister")
  .description(
    "Attested, end-to-end-encrypted AI inside hardware TEEs. Verify before you send a byte.",
  )
  .version(version)
  .addCommand(serveCommand())
  .addCommand(chatCommand())
  .addCommand(attestCommand())
  .addCommand(proxyCommand())
  .addCommand(deviceCommand())
  .addCommand(modelCommand())
  .addCommand(doctorCommand())
  .enablePositionalOptions()
  .showHelpAfterError();

program.parseAsync().catch(reportError);
