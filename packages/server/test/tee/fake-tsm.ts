import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { ConfigfsFiles } from "../../src/tee/index.js";

export interface FakeTsmOptions {
  /** The TSM name the kernel would show in each entry's `provider`. */
  readonly provider: string;
  readonly outblob: Uint8Array;
  readonly auxblob?: Uint8Array;
  /** How many requests another writer disturbs, by writing to the entry right after us. */
  readonly disturb?: number;
  /** An errno mkdir fails with, as the kernel does with ENXIO when no TSM is registered. */
  readonly mkdirErrno?: string;
}

export interface FakeTsm {
  readonly files: ConfigfsFiles;
  /** Every inblob written, in order. */
  readonly inblobs: Uint8Array[];
  /** Every privlevel written, in order. */
  readonly privlevels: string[];
  /** How many report entries were made. */
  mkdirs: number;
}

/**
 * Stands in for the kernel on a temp directory laid out like /sys/kernel/config/tsm/report.
 * mkdir fills the entry with its attributes and writes bump `generation`, as the kernel does;
 * unlike the kernel, `outblob` and `auxblob` are static files here, not generated on read.
 */
export async function fakeTsm(root: string, options: FakeTsmOptions): Promise<FakeTsm> {
  await mkdir(root, { recursive: true });
  let disturb = options.disturb ?? 0;
  const bump = async (entry: string) => {
    const path = join(entry, "generation");
    const generation = Number((await readFile(path, "utf8")).trim());
    await writeFile(path, `${generation + 1}\n`);
  };
  const fake: FakeTsm = {
    inblobs: [],
    privlevels: [],
    mkdirs: 0,
    files: {
      async mkdir(path) {
        if (options.mkdirErrno !== undefined) {
          throw Object.assign(new Error(`mkdir ${path}`), { code: options.mkdirErrno });
        }
        await mkdir(path);
        fake.mkdirs++;
        await writeFile(join(path, "provider"), `${options.provider}\n`);
        await writeFile(join(path, "generation"), "0\n");
        await writeFile(join(path, "outblob"), options.outblob);
        if (options.auxblob !== undefined) await writeFile(join(path, "auxblob"), options.auxblob);
      },
      async rmdir(path) {
        await rm(path, { recursive: true });
      },
      read: (path) => readFile(path),
      async write(path, data) {
        await writeFile(path, data);
        const entry = dirname(path);
        const name = basename(path);
        if (name === "inblob") fake.inblobs.push(new Uint8Array(data));
        if (name === "privlevel") fake.privlevels.push(new TextDecoder().decode(data));
        await bump(entry);
        if (name === "inblob" && disturb > 0) {
          disturb--;
          await bump(entry);
        }
      },
    },
  };
  return fake;
}
