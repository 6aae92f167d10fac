import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { FileIdentity } from "./list-files.js";

/**
 * The default cache file: `$CLOISTER_HOME/cache/digests.json` when Cloister has a home of its
 * own, else `$XDG_CACHE_HOME/cloister/digests.json`, else under `~/.cache`.
 */
export function defaultDigestCachePath(env: NodeJS.ProcessEnv = process.env): string {
  // $CLOISTER_HOME keeps all of one Cloister's state together (and tests away from the user's).
  if (env.CLOISTER_HOME !== undefined && env.CLOISTER_HOME !== "") {
    return join(resolve(env.CLOISTER_HOME), "cache", "digests.json");
  }
  const base = env.XDG_CACHE_HOME?.startsWith("/") ? env.XDG_CACHE_HOME : join(homedir(), ".cache");
  return join(base, "cloister", "digests.json");
}

export interface DigestCacheOptions {
  /** Default: defaultDigestCachePath(). */
  readonly path?: string;
  /** Entries kept; the least recently used go first when saving (default 100 000). */
  readonly maxEntries?: number;
  /**
   * A file changed less than this long before it was listed is not cached (default 2000 ms).
   * Timestamps tick coarsely (jiffies on Linux), so a same-size write right after our stat could
   * keep the identity we stored with the old digest; git calls these entries "racily clean".
   */
  readonly settleMs?: number;
  /** Where problems that only cost speed go (default: process.emitWarning). */
  readonly onWarning?: (message: string) => void;
  /** The clock, for the settle rule and recency; tests pin it. */
  readonly now?: () => number;
}

const SCHEMA = "cloister/digest-cache/v1";
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** A cache this large is not one we wrote: skip it rather than parse it. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

interface Entry {
  readonly sha256: string;
  usedAt: number;
}

function keyOf(file: FileIdentity & { readonly size: number }): string {
  return [file.dev, file.ino, file.size, file.mtimeNs, file.ctimeNs, file.realPath].join(":");
}

/** The entries of a cache file, or a reason it is not one. Every field is checked. */
function parseEntries(text: string): Map<string, Entry> | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return "it is not JSON";
  }
  const top = json as { schema?: unknown; entries?: unknown };
  if (typeof json !== "object" || json === null || top.schema !== SCHEMA)
    return `it does not declare schema ${SCHEMA}`;
  if (typeof top.entries !== "object" || top.entries === null || Array.isArray(top.entries))
    return "its entries are not an object";
  const entries = new Map<string, Entry>();
  for (const [key, value] of Object.entries(top.entries)) {
    const { sha256, usedAt } = (value ?? {}) as { sha256?: unknown; usedAt?: unknown };
    if (typeof sha256 !== "string" || !SHA256_HEX.test(sha256))
      return "an entry lacks a SHA-256 digest";
    if (typeof usedAt !== "number" || !Number.isFinite(usedAt)) return "an entry lacks usedAt";
    entries.set(key, { sha256, usedAt });
  }
  return entries;
}

/**
 * File digests remembered across runs, keyed by what identifies a version of a file's bytes
 * (device, inode, size, mtime and ctime in nanoseconds, real path), so re-verifying an unchanged
 * model reads none of it. Anyone who can write the cache file can make a changed file pass
 * unhashed; it lives in the user's own cache directory, which such a person already controls.
 * Pass `cache: false` to hashModel to read every byte.
 */
export class DigestCache {
  readonly path: string;
  readonly #entries: Map<string, Entry>;
  readonly #maxEntries: number;
  readonly #settleNs: bigint;
  readonly #warn: (message: string) => void;
  readonly #now: () => number;
  #dirty = false;

  private constructor(path: string, entries: Map<string, Entry>, options: DigestCacheOptions) {
    this.path = path;
    this.#entries = entries;
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#settleNs = BigInt(Math.round((options.settleMs ?? 2000) * 1e6));
    this.#warn = options.onWarning ?? ((message) => process.emitWarning(message, "CloisterCache"));
    this.#now = options.now ?? Date.now;
  }

  /**
   * Loads the cache file. A missing file is an empty cache; an unreadable, oversized or
   * malformed one is ignored with a warning (and replaced on the next save), never half-used.
   */
  static async open(options: DigestCacheOptions = {}): Promise<DigestCache> {
    const path = options.path ?? defaultDigestCachePath();
    const empty = () => new DigestCache(path, new Map(), options);
    const cache = empty();
    let text: string;
    try {
      if ((await stat(path)).size > MAX_FILE_BYTES) {
        cache.#warn(
          `Ignoring the digest cache ${path}: it is larger than ${MAX_FILE_BYTES} bytes.`,
        );
        return cache;
      }
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        const code = (error as NodeJS.ErrnoException).code ?? "unknown";
        cache.#warn(`Ignoring the digest cache ${path}: it cannot be read (${code}).`);
      }
      return cache;
    }
    const entries = parseEntries(text);
    if (typeof entries === "string") {
      cache.#warn(`Ignoring the digest cache ${path}: ${entries}.`);
      return cache;
    }
    return new DigestCache(path, entries, options);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The remembered digest of exactly this version of the file, if any. */
  get(file: FileIdentity & { readonly size: number }): string | undefined {
    const entry = this.#entries.get(keyOf(file));
    if (entry === undefined) return undefined;
    entry.usedAt = this.#now();
    this.#dirty = true;
    return entry.sha256;
  }

  /** Remembers a digest, unless the file changed too recently to trust its identity. */
  set(file: FileIdentity & { readonly size: number }, sha256: string): void {
    const settled = BigInt(this.#now()) * 1_000_000n - this.#settleNs;
    if (file.mtimeNs > settled || file.ctimeNs > settled) return;
    this.#entries.set(keyOf(file), { sha256, usedAt: this.#now() });
    this.#dirty = true;
  }

  /**
   * Writes the cache if anything changed: to a temporary file, then renamed over the old one,
   * so a reader never sees half a file. Failure costs only speed: a warning, no error.
   */
  async save(): Promise<void> {
    if (!this.#dirty) return;
    if (this.#entries.size > this.#maxEntries) {
      const oldest = [...this.#entries].sort(([, a], [, b]) => a.usedAt - b.usedAt);
      for (const [key] of oldest.slice(0, this.#entries.size - this.#maxEntries)) {
        this.#entries.delete(key);
      }
    }
    const text = JSON.stringify({ schema: SCHEMA, entries: Object.fromEntries(this.#entries) });
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      await writeFile(temporary, text, { mode: 0o600 });
      await rename(temporary, this.path);
      this.#dirty = false;
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code ?? "unknown";
      this.#warn(`Could not save the digest cache ${this.path} (${code}).`);
    }
  }
}
