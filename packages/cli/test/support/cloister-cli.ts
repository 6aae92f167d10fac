/**
 * The `cloister` command run as a user would run it: a child process on the TypeScript sources
 * (through tsx, so no build is needed), with a CLOISTER_HOME of the test's own so that no test
 * reads or writes the user's. Also the shape of `attest verify --json` output and small readers
 * of it, shared by the end-to-end tests.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/** The repository root: the CLI runs here, and testvectors/ lies below it. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../../..");

/** Node's arguments that run the CLI from source; the CLI's own arguments follow them. */
export const CLOISTER_NODE_ARGS = [
  "--conditions=source",
  "--import",
  "tsx",
  join(REPO_ROOT, "packages/cli/src/main.ts"),
];

const execFileAsync = promisify(execFile);

/** A finished run of the CLI. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** What `cloister attest verify --json` prints. */
export interface JsonOutput {
  evidence: string;
  form: string;
  status: string;
  reasons: { code: string; message: string }[];
  checks: { code: string; status: string; message: string }[];
  claims?: Record<string, unknown>;
}

/**
 * Runs `cloister <args>` with CLOISTER_HOME set to `home`; resolves with its exit code and output
 * whatever the exit code, since a refusal (exit 1) is often what a test expects.
 */
export async function runCloister(args: string[], home: string): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      [...CLOISTER_NODE_ARGS, ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, CLOISTER_HOME: home },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The parsed `--json` output; fails with the run's stderr when stdout is not JSON. */
export function jsonOutput(result: Run): JsonOutput {
  try {
    return JSON.parse(result.stdout) as JsonOutput;
  } catch {
    assert.fail(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** The codes of the reasons the verdict gives, in order. */
export function reasonCodes(output: JsonOutput): string[] {
  return output.reasons.map((r) => r.code);
}

/** The check with this code, or undefined when the run did not make it. */
export function findCheck(output: JsonOutput, code: string) {
  return output.checks.find((c) => c.code === code);
}
