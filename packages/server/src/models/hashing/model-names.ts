import { CloisterError } from "@cloister/core";

/**
 * The paths model_signing leaves out by default (`ignore_git_paths=True`), relative to the model
 * root only: a nested `sub/.git` is hashed like any other file.
 */
export const GIT_PATHS: readonly string[] = [".git", ".gitattributes", ".github", ".gitignore"];

/**
 * Splits an ignore path into its POSIX components. model_signing matches ignore paths with
 * `Path.is_relative_to(model_root / p)`: a whole-component prefix, no globbing, so `a` covers
 * `a` and `a/b` but not `ab`. A path that is absolute, climbs with `..` or names the root itself
 * would match nothing or everything there; we refuse it instead of guessing.
 */
export function ignoreComponents(ignorePath: string): readonly string[] {
  const parts = ignorePath.split("/").filter((part) => part !== "" && part !== ".");
  if (ignorePath.startsWith("/") || parts.includes("..") || parts.length === 0) {
    throw new CloisterError(
      "model.files.ignore_path",
      `The ignore path "${ignorePath}" must name something inside the model, relative to its root.`,
    );
  }
  return parts;
}

/** Whether `name` (POSIX, relative to the root) is one of `ignored` or lies under one. */
export function isIgnored(name: string, ignored: readonly (readonly string[])[]): boolean {
  const parts = name.split("/");
  return ignored.some(
    (prefix) => prefix.length <= parts.length && prefix.every((part, i) => part === parts[i]),
  );
}

/** Compares two strings by Unicode code point, as Python's `str` ordering does. */
function compareCodePoints(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done || y.done) return x.done === y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0) ?? 0;
    const cy = y.value.codePointAt(0) ?? 0;
    if (cx !== cy) return cx - cy;
  }
}

/**
 * The order of model_signing's resources: it sorts `PurePosixPath`s, which compare their
 * component lists, so `a/b` sorts before `a-b` although "/" > "-" as characters.
 */
export function compareModelNames(a: string, b: string): number {
  const left = a.split("/");
  const right = b.split("/");
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const order = compareCodePoints(left[i] ?? "", right[i] ?? "");
    if (order !== 0) return order;
  }
  return left.length - right.length;
}
