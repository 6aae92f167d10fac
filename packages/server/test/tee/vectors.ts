import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { TESTVECTORS } from "../../../core/test/support/testvectors.js";

export async function vector(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(join(TESTVECTORS, path)));
}
