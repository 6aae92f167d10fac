import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The shared public test vectors (real TEE evidence) sit beside the checkout; set
 * CLOISTER_TESTVECTORS to use another copy. Tests that need them skip, saying why, without.
 */
export const VECTORS =
  process.env.CLOISTER_TESTVECTORS ??
  fileURLToPath(new URL("../../../../../shared/testvectors/", import.meta.url));

export const vectorsMissing: string | false = existsSync(join(VECTORS, "index.json"))
  ? false
  : `the shared test vectors are not at ${VECTORS} (set CLOISTER_TESTVECTORS)`;

export async function vector(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(join(VECTORS, path)));
}
