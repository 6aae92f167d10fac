import { constants } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { hasAccess } from "../../fs-access.js";

/** Paths of NVIDIA's command-line tools; tests point them at fakes. */
export interface GpuToolPaths {
  readonly nvidiaSmi?: string;
  readonly nvattest?: string;
}

export interface FoundTools {
  readonly nvidiaSmi?: string;
  readonly nvattest?: string;
}

/**
 * Each tool's path: the one given, if it is executable, else the first executable of that name
 * on PATH. Only absolute PATH entries are searched, so the working directory never supplies one.
 */
export async function findTools(tools: GpuToolPaths, env: NodeJS.ProcessEnv): Promise<FoundTools> {
  const [nvidiaSmi, nvattest] = await Promise.all([
    findTool(tools.nvidiaSmi, "nvidia-smi", env),
    findTool(tools.nvattest, "nvattest", env),
  ]);
  return {
    ...(nvidiaSmi === undefined ? {} : { nvidiaSmi }),
    ...(nvattest === undefined ? {} : { nvattest }),
  };
}

async function findTool(
  given: string | undefined,
  name: string,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  if (given !== undefined) return (await hasAccess(given, constants.X_OK)) ? given : undefined;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    const path = join(dir, name);
    if (await hasAccess(path, constants.X_OK)) return path;
  }
  return undefined;
}
