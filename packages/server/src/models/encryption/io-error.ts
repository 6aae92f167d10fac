import { CloisterError } from "@cloister/core";

/** A file system failure as a typed error: the operation, the path and the errno code only. */
export function ioError(operation: string, path: string, error: unknown): CloisterError {
  if (error instanceof CloisterError) return error;
  const code = (error as { code?: unknown }).code;
  const why = code === "ENOENT" ? "no such file or directory" : String(code ?? "I/O error");
  return new CloisterError("model.encrypted.io", `Cannot ${operation} ${path}: ${why}.`, {
    cause: error,
  });
}
