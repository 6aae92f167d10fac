import { randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, rename, rm } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { CloisterError } from "@cloister/core";
import { decryptModelFile } from "./decrypt-file.js";
import { readEncryptedModelHeader } from "./decrypt-stream.js";
import { type EncryptedModelInfo, type EncryptOptions, encryptModelFile } from "./encrypt.js";
import { ioError } from "./io-error.js";
import type { ModelKeyring } from "./model-key.js";

/** An encrypted model directory mirrors the plaintext tree, each file named `<name>.cenc`. */
export const ENCRYPTED_FILE_SUFFIX = ".cenc";

export interface ModelDirProgress {
  /** The file being worked on, relative to the source directory, `/`-separated. */
  readonly file: string;
  readonly fileIndex: number;
  readonly fileCount: number;
  /** Plaintext bytes done and in all, over the whole directory. */
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface EncryptedModelDirEntry extends EncryptedModelInfo {
  /** The plaintext file's path relative to the directory, `/`-separated (the encrypted one adds `.cenc`). */
  readonly path: string;
}

/** Every regular file under `root`, sorted, as `/`-separated relative paths; anything else is refused. */
async function regularFiles(root: string): Promise<{ path: string; size: number }[]> {
  const out: { path: string; size: number }[] = [];
  async function walk(dir: string): Promise<void> {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const full = join(dir, name);
      const stats = await lstat(full);
      if (stats.isDirectory()) await walk(full);
      else if (stats.isFile())
        out.push({ path: relative(root, full).split(sep).join("/"), size: stats.size });
      else
        throw new CloisterError(
          "model.encrypted.not-regular",
          `${full} is neither a regular file nor a directory (symbolic links are not followed).`,
        );
    }
  }
  const top = await lstat(root).catch((error: unknown) => {
    throw ioError("read", root, error);
  });
  if (!top.isDirectory())
    throw new CloisterError("model.encrypted.not-regular", `${root} is not a directory.`);
  await walk(root);
  return out;
}

/**
 * Builds a whole directory beside `destination` and renames it into place only when every file
 * is done, so that `destination` either does not exist or is complete.
 */
async function buildDirectory<T>(
  destination: string,
  fill: (staging: string) => Promise<T>,
): Promise<T> {
  const exists = await lstat(destination).then(
    () => true,
    () => false,
  );
  if (exists)
    throw new CloisterError(
      "model.encrypted.destination-exists",
      `${destination} already exists; choose a new directory.`,
    );
  const staging = `${destination}.${randomBytes(6).toString("hex")}.partial`;
  try {
    await mkdir(staging, { recursive: true, mode: 0o700 });
    const result = await fill(staging);
    await rename(staging, destination);
    return result;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error instanceof CloisterError ? error : ioError("write", destination, error);
  }
}

function progressOf(
  files: readonly { path: string; size: number }[],
  onProgress: ((progress: ModelDirProgress) => void) | undefined,
) {
  const bytesTotal = files.reduce((sum, f) => sum + f.size, 0);
  let bytesDone = 0;
  return (fileIndex: number) => (bytes: number) => {
    bytesDone += bytes;
    onProgress?.({
      file: (files[fileIndex] as { path: string }).path,
      fileIndex,
      fileCount: files.length,
      bytesDone,
      bytesTotal,
    });
  };
}

/**
 * Encrypts every file under `sourceDir` into the new directory `destinationDir`, mirroring the
 * tree with `.cenc` appended to each name. All files use the same model key, each its own salt.
 */
export async function encryptModelDir(
  sourceDir: string,
  destinationDir: string,
  options: EncryptOptions & { readonly onProgress?: (progress: ModelDirProgress) => void },
): Promise<EncryptedModelDirEntry[]> {
  const files = await regularFiles(sourceDir);
  const progress = progressOf(files, options.onProgress);
  return buildDirectory(destinationDir, async (staging) => {
    const entries: EncryptedModelDirEntry[] = [];
    for (const [i, file] of files.entries()) {
      const target = join(staging, `${file.path}${ENCRYPTED_FILE_SUFFIX}`);
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      const info = await encryptModelFile(join(sourceDir, file.path), target, {
        key: options.key,
        ...(options.segmentSize === undefined ? {} : { segmentSize: options.segmentSize }),
        onProgress: progress(i),
      });
      entries.push({ path: file.path, ...info });
    }
    return entries;
  });
}

export interface DecryptedModelDirEntry {
  /** The plaintext file's path relative to the directory, `/`-separated. */
  readonly path: string;
  readonly keyId: string;
  readonly plaintextLength: number;
}

/**
 * Decrypts every `.cenc` file under `sourceDir` into the new directory `destinationDir` (names
 * without `.cenc`, files mode 0600). All headers are read first, so a missing key is refused
 * before any decryption; any other file in `sourceDir` is refused (`model.encrypted.not-encrypted`).
 * `destinationDir` appears only once every file has authenticated and matched its digest.
 */
export async function decryptModelDir(
  sourceDir: string,
  destinationDir: string,
  keys: ModelKeyring,
  options: { readonly onProgress?: (progress: ModelDirProgress) => void } = {},
): Promise<DecryptedModelDirEntry[]> {
  const encrypted = await regularFiles(sourceDir);
  const files: { path: string; size: number; keyId: string }[] = [];
  for (const file of encrypted) {
    if (!file.path.endsWith(ENCRYPTED_FILE_SUFFIX))
      throw new CloisterError(
        "model.encrypted.not-encrypted",
        `${join(sourceDir, file.path)} is not a ${ENCRYPTED_FILE_SUFFIX} file; an encrypted model directory holds only those.`,
      );
    const header = await readEncryptedModelHeader(join(sourceDir, file.path));
    if (!keys.has(header.keyId))
      throw new CloisterError(
        "model.encrypted.unknown-key",
        `${file.path} is encrypted to key "${header.keyId}", which is not among the keys given.`,
      );
    files.push({
      path: file.path.slice(0, -ENCRYPTED_FILE_SUFFIX.length),
      size: header.plaintextLength,
      keyId: header.keyId,
    });
  }
  const progress = progressOf(files, options.onProgress);
  return buildDirectory(destinationDir, async (staging) => {
    for (const [i, file] of files.entries()) {
      const target = join(staging, file.path);
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      await decryptModelFile(join(sourceDir, `${file.path}${ENCRYPTED_FILE_SUFFIX}`), target, {
        keys,
        onProgress: progress(i),
      });
    }
    return files.map(({ path, size, keyId }) => ({ path, keyId, plaintextLength: size }));
  });
}
