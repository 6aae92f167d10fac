import { cloisterConfigDir } from "@cloister/server/tee";
import { Option } from "@commander-js/extra-typings";
import { localServerUrl } from "./local-server.js";

export const urlOption = new Option(
  "--url <url>",
  "the Cloister workload (default: the one `cloister serve` runs on this machine)",
);

/** The workload a command talks to: --url, else this machine's own server. */
export async function targetUrl(url: string | undefined): Promise<string> {
  return url ?? (await localServerUrl(cloisterConfigDir()));
}
