import { execFile } from "node:child_process";
import { basename } from "node:path";
import { TeeError } from "../errors.js";

/** NVIDIA's tools print a few KiB per GPU; anything far larger is not their output. */
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

export interface ToolRun {
  readonly stdout: string;
  readonly stderr: string;
  /** The exit status; nvattest exits with its SDK result code, so non-zero is not thrown. */
  readonly exitCode: number;
}

export interface RunToolOptions {
  readonly timeoutMs: number;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Runs one tool without a shell. A missing tool, a timeout, a signal or runaway output is a
 * TeeError; an ordinary non-zero exit is returned, since its output says what went wrong.
 */
export function runTool(
  path: string,
  args: readonly string[],
  options: RunToolOptions,
): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    execFile(
      path,
      [...args],
      {
        encoding: "utf8",
        timeout: options.timeoutMs,
        killSignal: "SIGKILL",
        maxBuffer: MAX_OUTPUT_BYTES,
        windowsHide: true,
        ...(options.env === undefined ? {} : { env: options.env }),
      },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ stdout, stderr, exitCode: 0 });
          return;
        }
        const failure = error as NodeJS.ErrnoException & {
          killed?: boolean;
          signal?: string | null;
        };
        const name = [basename(path), ...args].join(" ");
        if (failure.code === "ENOENT" || failure.code === "EACCES") {
          reject(
            new TeeError("gpu.provider.tool_missing", `${path} cannot be run (${failure.code}).`, {
              cause: error,
            }),
          );
        } else if (
          failure.killed === true &&
          failure.code !== "ERR_CHILD_PROCESS_STDIO_MAXBUFFER"
        ) {
          reject(
            new TeeError(
              "gpu.provider.timeout",
              `${name} did not finish within ${options.timeoutMs} ms.`,
              {
                cause: error,
              },
            ),
          );
        } else if (typeof failure.code === "number") {
          resolve({ stdout, stderr, exitCode: failure.code });
        } else {
          const why =
            failure.code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER"
              ? `printed more than ${MAX_OUTPUT_BYTES} bytes`
              : failure.signal
                ? `was killed by ${failure.signal}`
                : `failed (${failure.code ?? "unknown error"})`;
          reject(new TeeError("gpu.provider.tool_failed", `${name} ${why}.`, { cause: error }));
        }
      },
    );
  });
}

/** The last non-empty line a tool wrote to stderr, shortened, for an error sentence. */
export function lastLine(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const line = lines.at(-1) ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
