import { CloisterError } from "@cloister/core";

/** Prints an error as one sentence (with its code) and sets a failing exit status. */
export function reportError(error: unknown): void {
  if (error instanceof CloisterError) {
    process.stderr.write(`cloister: ${error.message} [${error.code}]\n`);
    process.exitCode = 1;
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`cloister: unexpected error: ${message}\n`);
  process.exitCode = 2;
}
