import { fail, pass, warn } from "../attest/checks.js";
import type { Check } from "../attest/types.js";
import { CloisterError } from "../errors.js";
import { normalizeResourceName } from "./paths.js";
import type { ModelResource } from "./statement.js";

/**
 * The files found on disk, hashed by the caller (core never reads the disk). Names are POSIX
 * paths relative to the model root; a model that is a single file is passed as the one name ".".
 * The caller leaves out the paths the bundle says to ignore and the signature file itself.
 */
export interface ModelFileDigest {
  readonly name: string;
  /** SHA-256 of the file's content, hex. */
  readonly sha256: string;
}

/** How many names a message lists before it says "and N more". */
const LISTED = 5;

/**
 * Compares the files with the signed resources, as model_signing compares manifests: every
 * signed file must be present with its digest, and no unsigned file may be present. Each kind of
 * difference is its own check, so a report says which of them happened.
 */
export function compareModelFiles(
  files: readonly ModelFileDigest[],
  resources: readonly ModelResource[],
  options: { readonly ignoreUnsignedFiles?: boolean } = {},
): Check[] {
  const actual = new Map<string, string>();
  for (const file of files) {
    const name = normalizeResourceName(file.name);
    if (!/^[0-9a-fA-F]{64}$/.test(file.sha256)) {
      throw new CloisterError(
        "model.files.digest",
        `The digest given for ${JSON.stringify(name)} is not SHA-256 hex.`,
      );
    }
    if (actual.has(name)) {
      throw new CloisterError(
        "model.files.duplicate",
        `The file ${JSON.stringify(name)} was given twice.`,
      );
    }
    actual.set(name, file.sha256.toLowerCase());
  }
  const signed = new Map(resources.map((r) => [r.name, r.digest]));
  const extra = [...actual.keys()].filter((name) => !signed.has(name)).sort();
  const missing = [...signed.keys()].filter((name) => !actual.has(name)).sort();
  const changed = [...signed].filter(([name, digest]) => {
    const found = actual.get(name);
    return found !== undefined && found !== digest;
  });
  const checks: Check[] = [];
  if (extra.length > 0) {
    const message = `${count(extra.length, "file is", "files are")} present but not signed: ${list(extra)}.`;
    // model_signing --ignore_unsigned_files: such files are not part of the model as signed.
    checks.push(
      options.ignoreUnsignedFiles
        ? warn("model.files.unsigned", `${message} They were ignored, as asked.`)
        : fail("model.files.extra", message),
    );
  }
  if (missing.length > 0) {
    checks.push(
      fail(
        "model.files.missing",
        `${count(missing.length, "signed file is", "signed files are")} missing: ${list(missing)}.`,
      ),
    );
  }
  if (changed.length > 0) {
    checks.push(
      fail(
        "model.files.changed",
        `${count(changed.length, "file differs", "files differ")} from the signed digest: ${list(changed.map(([n]) => n).sort())}.`,
      ),
    );
  }
  if (!checks.some((c) => c.status === "fail")) {
    checks.push(
      pass(
        "model.files",
        `All ${count(signed.size, "signed file matches", "signed files match")} their digests, and no unsigned file is present.`,
      ),
    );
  }
  return checks;
}

function count(n: number, one: string, many: string): string {
  return n === 1 ? `1 ${one}` : `${n} ${many}`;
}

function list(names: readonly string[]): string {
  const shown = names.slice(0, LISTED).map((n) => JSON.stringify(n.slice(0, 200)));
  return names.length > LISTED
    ? `${shown.join(", ")} and ${names.length - LISTED} more`
    : shown.join(", ");
}
