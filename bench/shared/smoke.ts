/** The smoke tests' harness: one tiny run of a bench, its result file read back. */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export interface SmokeRun<T> {
  /** `<name>-latest.json`, parsed. */
  readonly result: T;
  readonly stdout: string;
}

/**
 * Runs bench/<name>/run.ts from the repository root with `args` and `--out` a temporary
 * directory, asserts that the dated result file holds the same text as `<name>-latest.json`, and
 * returns the latter parsed. The directory is removed whatever happens.
 */
export async function smokeRun<T extends { readonly startedAt: string }>(
  name: string,
  args: readonly string[],
): Promise<SmokeRun<T>> {
  const out = await mkdtemp(join(tmpdir(), `cloister-bench-${name}-`));
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        fileURLToPath(new URL(`../${name}/run.ts`, import.meta.url)),
        ...args,
        ...["--out", out],
      ],
      { cwd: fileURLToPath(new URL("../../", import.meta.url)) },
    );
    const latest = await readFile(join(out, `${name}-latest.json`), "utf8");
    const result = JSON.parse(latest) as T;
    assert.equal(
      await readFile(join(out, `${name}-${result.startedAt.slice(0, 10)}.json`), "utf8"),
      latest,
    );
    return { result, stdout };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
