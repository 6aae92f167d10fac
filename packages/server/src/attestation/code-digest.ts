import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * "sha256:<hex>" over the Cloister code this process runs: every file of the compiled (or, in
 * development, source) trees of @cloister/server and @cloister/core. The digest is over a
 * SHA256SUMS-style listing (digest, two spaces, path), so it is stable across machines and
 * anyone can recompute it from a release.
 */
export async function codeDigest(): Promise<string> {
  const serverTree = dirname(dirname(fileURLToPath(import.meta.url)));
  const coreTree = dirname(fileURLToPath(import.meta.resolve("@cloister/core")));
  const lines: string[] = [];
  for (const [name, tree] of [
    ["server", serverTree],
    ["core", coreTree],
  ] as const) {
    for (const file of await listFiles(tree)) {
      const digest = createHash("sha256")
        .update(await readFile(file))
        .digest("hex");
      lines.push(`${digest}  ${name}/${relative(tree, file).split(sep).join("/")}`);
    }
  }
  lines.sort();
  return `sha256:${createHash("sha256")
    .update(`${lines.join("\n")}\n`)
    .digest("hex")}`;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && !e.name.endsWith(".map") && !e.name.endsWith(".tsbuildinfo"))
    .map((e) => join(e.parentPath, e.name));
}
