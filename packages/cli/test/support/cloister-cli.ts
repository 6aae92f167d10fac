/**
 * The `cloister` command run as a user would run it: a child process on the TypeScript sources
 * (through tsx, so no build is needed), with a CLOISTER_HOME of the test's own so that no test
 * reads or writes the user's. Also the shape of `attest verify --json` output and small readers
 * of it, shared by the end-to-end tests.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
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

/**
 * Starts a long-running command (e.g. `serve`) and resolves once its stdout matches `ready`;
 * rejects with its output if it exits first.
 */
export function startLongRunning(
  args: string[],
  home: string,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [...CLOISTER_NODE_ARGS, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, CLOISTER_HOME: home },
  });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d;
      const match = out.match(ready);
      if (match) resolve({ child, match });
    });
    child.stderr?.on("data", (d: Buffer) => {
      err += d;
    });
    child.once("exit", (code) =>
      reject(new Error(`exited with ${code} before it was ready:\n${out}\n${err}`)),
    );
  });
}

/** Stops a command started with startLongRunning and waits for it to exit. */
export async function stopLongRunning(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}
