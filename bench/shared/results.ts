/** Where a bench's result file goes, and how its path is shown. */

import { mkdir, rename, writeFile } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** `--out`'s default: bench/results. */
export const RESULTS_DIR = fileURLToPath(new URL("../results", import.meta.url));

/**
 * Writes `<name>-<UTC date of startedAt>.json` and `<name>-latest.json` into `outDir`, each
 * through a temporary file and a rename so that a reader never sees half a result. Returns both
 * paths, the dated one first.
 */
export async function writeBenchResult(
  name: string,
  result: { readonly startedAt: string },
  outDir: string,
): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const text = `${JSON.stringify(result, null, 2)}\n`;
  const paths = [
    join(outDir, `${name}-${result.startedAt.slice(0, 10)}.json`),
    join(outDir, `${name}-latest.json`),
  ];
  for (const path of paths) {
    const temporary = path.replace(/\.json$/, ".tmp.json");
    await writeFile(temporary, text);
    await rename(temporary, path);
  }
  return paths;
}

/** A path as it reads best in output and results: from the repository root when inside it. */
export function shown(path: string): string {
  const inside = relative(REPO, path);
  return inside.startsWith("..") || isAbsolute(inside) ? path : inside;
}

/**
 * The end of every run: the result files written, then the report printed to stdout, then where
 * the files went said through `progress` (stderr), so that stdout holds the report alone.
 */
export async function publishResult<R extends { readonly startedAt: string }>(
  name: string,
  result: R,
  outDir: string,
  format: (result: R) => string,
  progress: (line: string) => void,
): Promise<void> {
  const written = await writeBenchResult(name, result, outDir);
  console.log(format(result));
  progress(`wrote ${written.map(shown).join(" and ")}`);
}
