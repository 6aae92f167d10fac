import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

/**
 * Where Cloister keeps per-user state: `$CLOISTER_HOME`, else `$XDG_CONFIG_HOME/cloister`, else
 * `~/.config/cloister`. A relative `$XDG_CONFIG_HOME` is ignored, as the XDG Base Directory
 * specification requires; a relative `$CLOISTER_HOME` is the user's explicit choice and is
 * resolved against the working directory.
 */
export function cloisterConfigDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
  home: () => string = homedir,
): string {
  const explicit = env.CLOISTER_HOME;
  if (explicit !== undefined && explicit !== "") return resolve(explicit);
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, "cloister");
  return join(home(), ".config", "cloister");
}
