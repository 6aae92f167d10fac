import { randomBytes } from "node:crypto";
import { link, open, rename, rm } from "node:fs/promises";

/**
 * Writes `data` to `path` so that a reader sees the old content or the new one, never a part:
 * the bytes go to a temporary file in the same directory, are synced, then renamed over `path`.
 */
export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const temp = await writeTemp(path, data, mode);
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Like writeFileAtomic, but never replaces an existing file: `link` fails when `path` exists,
 * where `rename` would overwrite it. Returns false when another process created it first, in
 * which case its file is the one to use.
 */
export async function createFileAtomic(path: string, data: string, mode: number): Promise<boolean> {
  const temp = await writeTemp(path, data, mode);
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === "EEXIST") return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

async function writeTemp(path: string, data: string, mode: number): Promise<string> {
  const temp = `${path}.${randomBytes(8).toString("hex")}.tmp`;
  const handle = await open(temp, "wx", mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  return temp;
}
