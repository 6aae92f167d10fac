import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";

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
  if (given !== undefined) return (await executable(given)) ? given : undefined;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    const path = join(dir, name);
    if (await executable(path)) return path;
  }
  return undefined;
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
