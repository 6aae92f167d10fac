import { access } from "node:fs/promises";

/** Whether this process may use `path` in `mode` (fs.constants.R_OK, W_OK, X_OK). */
export async function hasAccess(path: string, mode: number): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}
