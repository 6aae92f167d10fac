import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "@cloister/server/tee";

/** `cloister serve` records where it listens, so other commands find it without --url. */
const STATE_FILE = "server.json";
export const DEFAULT_URL = "http://127.0.0.1:8080";

export async function recordLocalServer(configDir: string, url: string): Promise<void> {
  await writeFileAtomic(
    join(configDir, STATE_FILE),
    `${JSON.stringify({ url, pid: process.pid })}\n`,
    0o600,
  );
}

export async function forgetLocalServer(configDir: string): Promise<void> {
  await rm(join(configDir, STATE_FILE), { force: true });
}

/** The URL of the server `npm start` runs on this machine, else the default address. */
export async function localServerUrl(configDir: string): Promise<string> {
  try {
    const state = JSON.parse(await readFile(join(configDir, STATE_FILE), "utf8")) as {
      url?: unknown;
    };
    if (typeof state.url === "string") return state.url;
  } catch {
    // No server recorded: fall back to the default address.
  }
  return DEFAULT_URL;
}
