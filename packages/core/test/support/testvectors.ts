import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The public test-vector corpus (real TEE evidence, RFC examples), vendored byte for byte at
 * the repository root so that tests run from any checkout. Provenance and licences are in its
 * README.md; scripts/sync-testvectors.sh refreshes it.
 */
export const TESTVECTORS = fileURLToPath(new URL("../../../../testvectors/", import.meta.url));

/**
 * One entry of testvectors/index.json, the machine-readable form of the README's vector tables.
 * `parsed` and `source_asserts` differ in shape from vector to vector, so they stay loosely
 * typed here: a test narrows them where it reads them, for the vectors it reads.
 */
export interface VectorEntry {
  readonly id: string;
  /** The TEE, e.g. "sev-snp" or "sev-snp (Azure vTPM)"; entries that are no TEE's have `kind`. */
  readonly tee?: string;
  /** What a non-TEE entry is: "ohttp", "hpke", "model-signing", "tlog", "kbs" or "ear". */
  readonly kind?: string;
  /** The verdict the source states or its tests assert ("valid", "NEGATIVE for ..."). */
  readonly expected: string;
  /** Each file's role -> its path relative to TESTVECTORS. */
  readonly files: Readonly<Record<string, string>>;
  /** Prose: the time to verify at, or the validity window to verify inside. */
  readonly verify_at: string;
  /** The values the source's own tests assert. */
  readonly source_asserts?: Readonly<Record<string, unknown>>;
  /** The fields the corpus's offline parser read, for the entry or keyed by file name. */
  readonly parsed?: Readonly<Record<string, unknown>>;
  /** What was recomputed offline beyond the source's tests. */
  readonly our_check?: string | Readonly<Record<string, unknown>>;
  readonly note?: string;
  /** Per-file digests, where many small files share one entry. */
  readonly file_sha256?: Readonly<Record<string, string>>;
}

/** Read synchronously, once per process: suites declare their tests from it at module load. */
export const VECTOR_INDEX: readonly VectorEntry[] = JSON.parse(
  readFileSync(`${TESTVECTORS}index.json`, "utf8"),
) as VectorEntry[];

/** The entry with this id; a missing one throws, so a renamed vector fails loudly. */
export function vectorEntry(id: string): VectorEntry {
  const entry = VECTOR_INDEX.find((e) => e.id === id);
  if (entry === undefined) throw new Error(`testvectors/index.json has no entry ${id}`);
  return entry;
}
