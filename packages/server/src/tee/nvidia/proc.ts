import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** Where the NVIDIA kernel module describes itself and each GPU it drives. */
export const NVIDIA_PROC_DIR = "proc/driver/nvidia";

export interface GpuDevice {
  /** PCI address, e.g. "0000:01:00.0". */
  readonly busId: string;
  readonly name: string;
  readonly uuid?: string;
}

/**
 * The GPUs the loaded driver lists under /proc/driver/nvidia/gpus/<bus id>/information. A
 * missing directory means no driver (or no GPU), never an error.
 */
export async function readProcGpus(root: string): Promise<GpuDevice[]> {
  const dir = join(root, NVIDIA_PROC_DIR, "gpus");
  let entries: string[];
  try {
    entries = (await readdir(dir)).sort();
  } catch {
    return [];
  }
  const gpus: GpuDevice[] = [];
  for (const busId of entries) {
    let text = "";
    try {
      text = await readFile(join(dir, busId, "information"), "utf8");
    } catch {
      // A GPU directory without a readable information file still counts as a GPU.
    }
    const fields = colonFields(text);
    const uuid = fields.get("gpu uuid");
    gpus.push({
      busId: fields.get("bus location") ?? busId,
      name: fields.get("model") ?? "unknown NVIDIA GPU",
      ...(uuid === undefined ? {} : { uuid }),
    });
  }
  return gpus;
}

/** The driver version from /proc/driver/nvidia/version ("NVRM version: ... 550.90.07 ..."). */
export async function readProcDriverVersion(root: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(join(root, NVIDIA_PROC_DIR, "version"), "utf8");
  } catch {
    return undefined;
  }
  return /^NVRM version:.*?\s(\d+\.\d+(?:\.\d+)?)(?:\s|$)/m.exec(text)?.[1];
}

/** "Key:  value" lines, keys lower-cased; the first occurrence of a key wins. */
function colonFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (value !== "" && !fields.has(key)) fields.set(key, value);
  }
  return fields;
}
