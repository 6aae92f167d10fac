import { constants } from "node:fs";
import { lstat, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { CloisterError } from "@cloister/core";
import { createFileAtomic } from "../../tee/atomic-file.js";
import { modelKeyFromJwk, modelKeyToJwk } from "./jwk.js";
import type { ModelKey } from "./model-key.js";

/**
 * Reads a model key file (one JWK). Refuses a file that group or others may read or write: a key
 * file is meant to be mode 0600, and one that is not may already have leaked.
 */
export async function readModelKeyFile(path: string): Promise<ModelKey> {
  let stats: Awaited<ReturnType<typeof lstat>>;
  try {
    stats = await lstat(path);
  } catch (error) {
    throw new CloisterError("model.key.file", `Cannot read the key file ${path}: ${why(error)}.`);
  }
  if (!stats.isFile())
    throw new CloisterError("model.key.file", `The key file ${path} is not a regular file.`);
  const mode = Number(stats.mode) & 0o777;
  if ((mode & 0o077) !== 0)
    throw new CloisterError(
      "model.key.permissions",
      `The key file ${path} is accessible to group or others (mode ${mode.toString(8).padStart(4, "0")}); run \`chmod 600 ${path}\` after checking it has not leaked.`,
    );
  let text: string;
  try {
    text = await readFile(path, {
      encoding: "utf8",
      flag: constants.O_RDONLY | constants.O_NOFOLLOW,
    });
  } catch (error) {
    throw new CloisterError("model.key.file", `Cannot read the key file ${path}: ${why(error)}.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CloisterError("model.key.malformed", `${path}: not valid JSON.`);
  }
  return modelKeyFromJwk(value, path);
}

/**
 * Writes `key` as a new key file with mode 0600 (its directory created 0700 when missing), whole
 * or not at all. Never replaces an existing file: that could destroy the only copy of a key.
 */
export async function createModelKeyFile(path: string, key: ModelKey): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const created = await createFileAtomic(
      path,
      `${JSON.stringify(modelKeyToJwk(key), null, 2)}\n`,
      0o600,
    );
    if (!created)
      throw new CloisterError("model.key.exists", `The key file ${path} already exists.`);
  } catch (error) {
    if (error instanceof CloisterError) throw error;
    throw new CloisterError("model.key.file", `Cannot write the key file ${path}: ${why(error)}.`);
  }
}

const why = (error: unknown) =>
  (error as { code?: unknown }).code === "ENOENT"
    ? "no such file"
    : String((error as { code?: unknown }).code ?? "I/O error");
