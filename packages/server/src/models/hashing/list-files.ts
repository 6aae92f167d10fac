import type { BigIntStats } from "node:fs";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { CloisterError } from "@cloister/core";
import { compareModelNames, GIT_PATHS, ignoreComponents, isIgnored } from "./model-names.js";

/** What identifies one version of a file's bytes without reading them (the digest cache key). */
export interface FileIdentity {
  /** The file's canonical path: two links to one file share its cache entry. */
  readonly realPath: string;
  readonly dev: bigint;
  readonly ino: bigint;
  readonly mtimeNs: bigint;
  /** Any write or `utimes` moves ctime, and user space cannot set it back. */
  readonly ctimeNs: bigint;
}

export interface ModelFile extends FileIdentity {
  /** The resource name: POSIX path relative to the model root, or "." for a single-file model. */
  readonly name: string;
  /** Absolute path to open (through the root as given). */
  readonly path: string;
  readonly size: number;
}

export interface ListModelFilesOptions {
  /** Paths relative to the model root; each drops that file or directory and all below it. */
  readonly ignorePaths?: readonly string[];
  /** Also drop `.git`, `.gitattributes`, `.github` and `.gitignore` at the root (default true). */
  readonly ignoreGitPaths?: boolean;
  /**
   * Follow symbolic links to files, hashing the target's bytes under the link's name (default
   * false: any symlink is refused). As in model_signing, a link to a directory is neither
   * descended into nor hashed.
   */
  readonly allowSymlinks?: boolean;
}

function fsError(error: unknown, path: string): CloisterError {
  const code = (error as NodeJS.ErrnoException).code ?? "unknown";
  return new CloisterError("model.files.unreadable", `Cannot read "${path}" (${code}).`, {
    cause: error,
  });
}

async function lstatOf(path: string): Promise<BigIntStats> {
  try {
    return await lstat(path, { bigint: true });
  } catch (error) {
    throw fsError(error, path);
  }
}

/** Follows an allowed symlink: the target's stats, or a typed error for a dangling one. */
async function followLink(path: string): Promise<BigIntStats> {
  try {
    return await stat(path, { bigint: true });
  } catch (error) {
    throw fsError(error, path);
  }
}

function refuseLink(path: string): never {
  throw new CloisterError(
    "model.files.symlink",
    `"${path}" is a symbolic link; links are refused unless symlinks are allowed.`,
  );
}

function refuseSpecial(path: string): never {
  throw new CloisterError(
    "model.files.special",
    `"${path}" is neither a regular file nor a directory (a device, pipe or socket).`,
  );
}

async function toModelFile(
  name: string,
  path: string,
  stats: BigIntStats,
  realPath: string | undefined,
): Promise<ModelFile> {
  let canonical = realPath;
  if (canonical === undefined) {
    try {
      canonical = await realpath(path);
    } catch (error) {
      throw fsError(error, path);
    }
  }
  return {
    name,
    path,
    size: Number(stats.size),
    realPath: canonical,
    dev: stats.dev,
    ino: stats.ino,
    mtimeNs: stats.mtimeNs,
    ctimeNs: stats.ctimeNs,
  };
}

interface Walk {
  readonly ignored: readonly (readonly string[])[];
  readonly allowSymlinks: boolean;
  readonly out: ModelFile[];
}

/**
 * Walks `dir` (the real directory `realDir`). Ignored paths are skipped before any other check,
 * so an ignored symlink or socket is no error, as in model_signing.
 */
async function walk(walkState: Walk, dir: string, realDir: string, prefix: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    throw fsError(error, dir);
  }
  await Promise.all(
    entries.map(async (entry) => {
      const name = prefix === "" ? entry : `${prefix}/${entry}`;
      if (isIgnored(name, walkState.ignored)) return;
      const path = join(dir, entry);
      const stats = await lstatOf(path);
      if (stats.isDirectory()) {
        await walk(walkState, path, join(realDir, entry), name);
      } else if (stats.isFile()) {
        walkState.out.push(await toModelFile(name, path, stats, join(realDir, entry)));
      } else if (stats.isSymbolicLink()) {
        if (!walkState.allowSymlinks) refuseLink(path);
        const target = await followLink(path);
        if (target.isFile()) walkState.out.push(await toModelFile(name, path, target, undefined));
        else if (!target.isDirectory()) refuseSpecial(path);
      } else {
        refuseSpecial(path);
      }
    }),
  );
}

/**
 * Lists the files of a model the way model_signing's "files" serialization does: every regular
 * file under `root`, named by its POSIX path relative to the root and sorted as its manifest
 * sorts them. A root that is itself a file is a single-file model whose one resource is ".".
 */
export async function listModelFiles(
  root: string,
  options: ListModelFilesOptions = {},
): Promise<ModelFile[]> {
  const allowSymlinks = options.allowSymlinks ?? false;
  const ignored = [
    ...(options.ignorePaths ?? []),
    ...(options.ignoreGitPaths === false ? [] : GIT_PATHS),
  ].map(ignoreComponents);
  const top = resolve(root);
  let stats: BigIntStats;
  try {
    stats = await lstat(top, { bigint: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new CloisterError(
        "model.files.root_missing",
        `The model path "${top}" does not exist.`,
      );
    }
    throw fsError(error, top);
  }
  if (stats.isSymbolicLink()) {
    if (!allowSymlinks) refuseLink(top);
    stats = await followLink(top);
  }
  if (stats.isFile()) return [await toModelFile(".", top, stats, undefined)];
  if (!stats.isDirectory()) refuseSpecial(top);
  let realTop: string;
  try {
    realTop = await realpath(top);
  } catch (error) {
    throw fsError(error, top);
  }
  const out: ModelFile[] = [];
  await walk({ ignored, allowSymlinks, out }, top, realTop, "");
  return out.sort((a, b) => compareModelNames(a.name, b.name));
}
