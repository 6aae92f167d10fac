import { CloisterError } from "@cloister/core";

/**
 * A TEE interface could not produce evidence, or was given something it cannot use. `code`
 * names the case (e.g. "tee.report_data", "tee.configfs_generation"); the message is one
 * sentence that names paths and kernel error codes, never key material.
 */
export class TeeError extends CloisterError {}

/** The errno name of a Node file-system error ("ENOENT"), or undefined for anything else. */
export function errnoOf(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

/** Wraps a failed file operation as a TeeError whose sentence names the path and the errno. */
export function fileError(code: string, action: string, path: string, error: unknown): TeeError {
  return new TeeError(code, `${action} ${path} failed (${errnoOf(error) ?? "unknown error"}).`, {
    cause: error,
  });
}
