import { lstat, mkdir } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { CloisterError, ENC_DEFAULT_SEGMENT_SIZE } from "@cloister/core";
import {
  createModelKeyFile,
  decryptModelDir,
  decryptModelFile,
  ENCRYPTED_FILE_SUFFIX,
  encryptModelDir,
  encryptModelFile,
  generateModelKey,
  type ModelKey,
  modelKeyring,
  readEncryptedModelHeader,
  readModelKeyFile,
} from "@cloister/server";
import { cloisterConfigDir } from "@cloister/server/tee";
import {
  Command,
  type CommandUnknownOpts,
  InvalidArgumentError,
} from "@commander-js/extra-typings";
import { byteProgress } from "../progress.js";

/**
 * `cloister model encrypt` and `cloister model decrypt`: the model owner's side of encrypted
 * models (docs/model-encryption-format.md). Progress goes to stderr, results to stdout.
 */
export function registerModelCrypto(model: CommandUnknownOpts): void {
  model.addCommand(encryptCommand()).addCommand(decryptCommand());
}

function encryptCommand() {
  return new Command("encrypt")
    .description(
      "Encrypt a model file or directory for release to attested workloads only (each file becomes <name>.cenc).",
    )
    .argument("<path>", "the model file or directory")
    .requiredOption("--key-id <id>", "the key's ID, written into every file's header")
    .option(
      "--key <file>",
      "the key file (a JWK, mode 0600), created when absent (default: <config>/model-keys/<key-id>.jwk)",
    )
    .option(
      "--out <dir>",
      "where the output goes (default: beside a file; <path>-encrypted for a directory)",
    )
    .option(
      "--segment-size <bytes>",
      `plaintext bytes per authenticated segment, e.g. 65536, 256k, 4m (default ${ENC_DEFAULT_SEGMENT_SIZE / 1024 / 1024}m)`,
      byteSize,
    )
    .option("--json", "print the result as JSON")
    .action(async (path, options) => {
      const source = resolve(path);
      const keyFile = resolve(options.key ?? defaultKeyFile(options.keyId));
      const { key, created } = await keyForEncryption(keyFile, options.keyId);
      if (created) status(`created key file ${keyFile} (mode 0600): keep it secret and backed up`);
      const segmentSize = options.segmentSize ?? ENC_DEFAULT_SEGMENT_SIZE;
      const common = { key, segmentSize };
      let output: string;
      let files: Record<string, unknown>[];
      if (await isDirectory(source)) {
        output = resolve(options.out ?? `${source}-encrypted`);
        const progress = progressPrinter("encrypting");
        const entries = await encryptModelDir(source, output, {
          ...common,
          onProgress: progress.update,
        }).finally(progress.done);
        files = entries.map((e) => ({ ...e, encryptedPath: `${e.path}${ENCRYPTED_FILE_SUFFIX}` }));
      } else {
        const outDir = resolve(options.out ?? dirname(source));
        await mkdir(outDir, { recursive: true });
        const target = join(outDir, `${basename(source)}${ENCRYPTED_FILE_SUFFIX}`);
        output = target;
        const progress = progressPrinter("encrypting");
        const info = await encryptModelFile(source, target, {
          ...common,
          onProgress: fileProgress(progress, basename(source), (await lstat(source)).size),
        }).finally(progress.done);
        files = [{ path: basename(source), encryptedPath: basename(target), ...info }];
      }
      const result = { keyId: key.id, keyFile, keyCreated: created, output, segmentSize, files };
      if (options.json === true) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else
        process.stdout.write(
          `Encrypted ${files.length} file${files.length === 1 ? "" : "s"} to ${output} with key "${key.id}" (${keyFile}).\n`,
        );
    });
}

function decryptCommand() {
  return new Command("decrypt")
    .description(
      "Decrypt a model file (<name>.cenc) or directory encrypted with `cloister model encrypt`; nothing is written unless every byte authenticates.",
    )
    .argument("<path>", "the .cenc file or the encrypted directory")
    .requiredOption("--key <file>", "the key file (a JWK, mode 0600)")
    .option(
      "--out <dir>",
      "where the output goes (default: beside a file; <path>-decrypted for a directory)",
    )
    .option("--json", "print the result as JSON")
    .action(async (path, options) => {
      const source = resolve(path);
      const keys = modelKeyring([await readModelKeyFile(resolve(options.key))]);
      let output: string;
      let files: { path: string; plaintextLength: number }[];
      if (await isDirectory(source)) {
        output = resolve(options.out ?? `${source}-decrypted`);
        const progress = progressPrinter("decrypting");
        files = await decryptModelDir(source, output, keys, {
          onProgress: progress.update,
        }).finally(progress.done);
      } else {
        const name = basename(source);
        if (!name.endsWith(ENCRYPTED_FILE_SUFFIX) || name === ENCRYPTED_FILE_SUFFIX)
          throw new CloisterError(
            "model.encrypted.not-encrypted",
            `${source} is not named <name>${ENCRYPTED_FILE_SUFFIX}.`,
          );
        const plainName = name.slice(0, -ENCRYPTED_FILE_SUFFIX.length);
        const outDir = resolve(options.out ?? dirname(source));
        await mkdir(outDir, { recursive: true, mode: 0o700 });
        output = join(outDir, plainName);
        const { plaintextLength: expected } = await readEncryptedModelHeader(source);
        const progress = progressPrinter("decrypting");
        const plaintextLength = await decryptModelFile(source, output, {
          keys,
          onProgress: fileProgress(progress, plainName, expected),
        }).finally(progress.done);
        files = [{ path: plainName, plaintextLength }];
      }
      const result = { output, files };
      if (options.json === true) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else
        process.stdout.write(
          `Decrypted ${files.length} file${files.length === 1 ? "" : "s"} to ${output}; every segment authenticated and every digest matched.\n`,
        );
    });
}

/** A key ID may hold "/" and other characters no file name should. */
function defaultKeyFile(keyId: string): string {
  return join(cloisterConfigDir(), "model-keys", `${keyId.replace(/[^A-Za-z0-9._-]/g, "_")}.jwk`);
}

async function keyForEncryption(
  path: string,
  keyId: string,
): Promise<{ key: ModelKey; created: boolean }> {
  const exists = await lstat(path).then(
    () => true,
    () => false,
  );
  if (!exists) {
    const key = generateModelKey(keyId);
    await createModelKeyFile(path, key);
    return { key, created: true };
  }
  const key = await readModelKeyFile(path);
  if (key.id !== keyId)
    throw new CloisterError(
      "model.key.id-mismatch",
      `The key file ${path} holds key "${key.id}", not "${keyId}".`,
    );
  return { key, created: false };
}

async function isDirectory(path: string): Promise<boolean> {
  const stats = await lstat(path).catch(() => {
    throw new CloisterError(
      "model.encrypted.io",
      `Cannot read ${path}: no such file or directory.`,
    );
  });
  return stats.isDirectory();
}

const status = (line: string) => process.stderr.write(`cloister: ${line}\n`);

interface Progress {
  readonly file: string;
  readonly fileIndex: number;
  readonly fileCount: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

/**
 * The shared progress display (a bar on a terminal, a line now and then elsewhere) over all the
 * bytes of the job, and one line per file when there are several. `done()` shows the final state.
 */
function progressPrinter(verb: string): { update: (progress: Progress) => void; done: () => void } {
  const bar = byteProgress({ label: verb });
  let lastFile = -1;
  return {
    update(p) {
      if (p.fileIndex !== lastFile && p.fileCount > 1) {
        bar.stop();
        status(`${verb} ${p.file} (${p.fileIndex + 1}/${p.fileCount})`);
      }
      lastFile = p.fileIndex;
      bar.update(p.bytesDone, p.bytesTotal);
    },
    done: () => bar.stop(),
  };
}

/** A single file's per-segment callback, shown like a one-file directory. */
function fileProgress(
  printer: ReturnType<typeof progressPrinter>,
  file: string,
  bytesTotal: number,
): (bytes: number) => void {
  let bytesDone = 0;
  return (bytes) => {
    bytesDone += bytes;
    printer.update({ file, fileIndex: 0, fileCount: 1, bytesDone, bytesTotal });
  };
}

/** "65536", "256k", "4m", "1MiB": binary multiples. */
function byteSize(value: string): number {
  const match = /^(\d+)\s*(k|kib|m|mib)?$/i.exec(value.trim());
  if (match === null)
    throw new InvalidArgumentError("expected a size in bytes such as 65536, 256k or 4m.");
  const unit = (match[2] ?? "").toLowerCase();
  const multiple = unit.startsWith("k") ? 1024 : unit.startsWith("m") ? 1024 * 1024 : 1;
  return Number(match[1]) * multiple;
}
