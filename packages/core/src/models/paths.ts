/**
 * Resource names are POSIX paths relative to the model root. model_signing keys its manifest by
 * Python's PurePosixPath, so "a//b", "./a/b" and "a/b/" all name "a/b", and resources are
 * listed in PurePosixPath order: component by component, each compared by Unicode code point.
 * A single-file model has the one resource ".".
 */

/** The name as PurePosixPath would print it. */
export function normalizeResourceName(name: string): string {
  const absolute = name.startsWith("/");
  // POSIX leaves the meaning of exactly two leading slashes to the system; Python keeps them.
  const root = absolute ? (name.startsWith("//") && !name.startsWith("///") ? "//" : "/") : "";
  const parts = name.split("/").filter((part) => part !== "" && part !== ".");
  const joined = root + parts.join("/");
  return joined === "" ? "." : joined;
}

/** Orders names as sorted() orders PurePosixPath values. */
export function compareResourceNames(a: string, b: string): number {
  const left = a === "." ? [] : a.split("/");
  const right = b === "." ? [] : b.split("/");
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const order = compareCodePoints(left[i] as string, right[i] as string);
    if (order !== 0) return order;
  }
  return left.length - right.length;
}

/** JavaScript compares UTF-16 code units; Python compares code points. They differ above U+FFFF. */
function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const left = Array.from(a, (c) => c.codePointAt(0) as number);
  const right = Array.from(b, (c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const order = (left[i] as number) - (right[i] as number);
    if (order !== 0) return order;
  }
  return left.length - right.length;
}
