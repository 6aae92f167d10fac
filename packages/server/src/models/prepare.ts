import { constants, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, relative, sep } from "node:path";
import { CloisterError, type ModelFileDigest, toHex } from "@cloister/core";
import { hasAccess } from "../fs-access.js";
import {
  decryptModelDir,
  decryptModelFile,
  ENCRYPTED_FILE_SUFFIX,
  type ModelKeyring,
  readEncryptedModelHeader,
} from "./encryption/index.js";
import type { DigestCache } from "./hashing/index.js";
import {
  type ModelTrustPolicy,
  readBundle,
  requireVerifiedModel,
  verifiedOrThrow,
  verifyModelDigests,
} from "./verify-on-disk.js";

/** A model as configured: a file or directory, plain or encrypted (`cloister model encrypt`). */
export interface ModelSource {
  readonly path: string;
  /** The model_signing bundle; default `<dir>/model.sig` for a plain directory, else `<path>.sig`. */
  readonly signature?: string;
}

export interface PrepareModelOptions {
  /** When set, the model must be signed by someone it trusts, or it is refused. */
  readonly trust?: ModelTrustPolicy;
  /** Keys for encrypted models (released keys, a sealed key file, the environment). */
  readonly keys?: ModelKeyring;
  /** Where decrypted models live while served; default a private directory in /dev/shm. */
  readonly scratch?: string;
  readonly cache?: DigestCache | false;
  readonly now?: Date;
}

/** A model ready to load: the GGUF to hand the engine and, when signed, what verified. */
export interface PreparedModel {
  readonly ggufPath: string;
  readonly verified?: { readonly digest: string; readonly signer: string };
  /** Removes the decrypted copy, if any. */
  dispose(): Promise<void>;
}

/**
 * Verify before load: a signed model is hashed and checked against its bundle before anything
 * reads it as a model. An encrypted model is checked first against the plaintext digests its
 * headers declare, then decrypted into a directory only this process can read (the decryption
 * authenticates every byte and re-checks each digest), and only then loaded.
 */
export async function prepareModel(
  source: ModelSource,
  options: PrepareModelOptions = {},
): Promise<PreparedModel> {
  const info = await stat(source.path).catch(() => {
    throw new CloisterError("model.missing", `The model ${source.path} does not exist.`);
  });
  const encrypted = info.isDirectory()
    ? await holdsEncryptedFiles(source.path)
    : source.path.endsWith(ENCRYPTED_FILE_SUFFIX);
  const signature =
    source.signature ??
    (info.isDirectory() && !encrypted ? join(source.path, "model.sig") : `${source.path}.sig`);
  if (!encrypted) {
    const verified =
      options.trust === undefined
        ? undefined
        : await requireVerifiedModel(source.path, {
            bundle: signature,
            trust: options.trust,
            ...(options.cache === undefined ? {} : { cache: options.cache }),
            ...(options.now === undefined ? {} : { now: options.now }),
          });
    return {
      ggufPath: await ggufIn(source.path, info.isDirectory()),
      ...(verified === undefined
        ? {}
        : { verified: { digest: verified.digest, signer: verified.signer } }),
      dispose: async () => {},
    };
  }
  if (options.keys === undefined || options.keys.size === 0) {
    throw new CloisterError(
      "model.key.missing",
      `The model ${source.path} is encrypted and no model key was given to decrypt it.`,
    );
  }
  const verified =
    options.trust === undefined
      ? undefined
      : await verifyEncrypted(
          source.path,
          info.isDirectory(),
          signature,
          options.trust,
          options.now,
        );
  const scratch = await mkdtemp(join(options.scratch ?? (await privateRoot()), "cloister-model-"));
  try {
    // Decrypted under its own name: the engine names the model after the file.
    const plain = join(scratch, basename(source.path, ENCRYPTED_FILE_SUFFIX));
    if (info.isDirectory()) {
      await decryptModelDir(source.path, plain, options.keys);
    } else {
      await decryptModelFile(source.path, plain, { keys: options.keys });
    }
    return {
      ggufPath: await ggufIn(plain, info.isDirectory()),
      ...(verified === undefined ? {} : { verified }),
      dispose: () => rm(scratch, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
}

/** The signature checked against the plaintext digests in the headers, before any decryption. */
async function verifyEncrypted(
  path: string,
  directory: boolean,
  signature: string,
  trust: ModelTrustPolicy,
  now: Date | undefined,
): Promise<{ digest: string; signer: string }> {
  const files: ModelFileDigest[] = [];
  if (directory) {
    for (const name of await encryptedFiles(path)) {
      const header = await readEncryptedModelHeader(join(path, name));
      files.push({
        name: name.slice(0, -ENCRYPTED_FILE_SUFFIX.length),
        sha256: toHex(header.plaintextSha256),
      });
    }
  } else {
    files.push({
      name: ".",
      sha256: toHex((await readEncryptedModelHeader(path)).plaintextSha256),
    });
  }
  const verification = await verifyModelDigests(await readBundle(signature), files, {
    trust,
    ...(now === undefined ? {} : { now }),
  });
  const { digest, signer } = verifiedOrThrow(path, verification);
  return { digest, signer };
}

/** /dev/shm when this machine has it (memory, never disk), else the temporary directory. */
async function privateRoot(): Promise<string> {
  return (await hasAccess("/dev/shm", constants.W_OK)) ? "/dev/shm" : tmpdir();
}

async function holdsEncryptedFiles(dir: string): Promise<boolean> {
  return (await encryptedFiles(dir)).length > 0;
}

/** The .cenc files under `dir`, as sorted `/`-separated relative paths. */
async function encryptedFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(ENCRYPTED_FILE_SUFFIX))
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"))
    .sort();
}

/** The GGUF to load: the file itself, or the one .gguf in a model directory. */
async function ggufIn(path: string, directory: boolean): Promise<string> {
  if (!directory) return path;
  const ggufs = (await readdir(path)).filter((name) => name.toLowerCase().endsWith(".gguf"));
  if (ggufs.length !== 1) {
    throw new CloisterError(
      "model.gguf",
      `The model directory ${path} holds ${ggufs.length} .gguf files at its top level; it must hold exactly one.`,
    );
  }
  return join(path, ggufs[0] as string);
}
