import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tempDir } from "../temp.js";

export interface FakeAnswer {
  readonly stdout?: string;
  readonly stderr?: string;
  readonly exitCode?: number;
  /** Never answer (the shell execs sleep, so the provider's kill reaches it). */
  readonly hang?: boolean;
}

export interface FakeTool {
  readonly path: string;
  /** One line per run: the arguments joined by spaces, then " NVAT_FORMAT=<value>". */
  calls(): Promise<string[]>;
}

/**
 * A stand-in for an NVIDIA command-line tool: a shell script that records its arguments and
 * answers each argument list with canned output, as the real tool prints it.
 */
export async function fakeTool(
  dir: string,
  name: string,
  answers: Readonly<Record<string, FakeAnswer>>,
): Promise<FakeTool> {
  const home = join(dir, `${name}.d`);
  await mkdir(home, { recursive: true });
  const log = join(home, "calls.log");
  await writeFile(log, "");
  const cases: string[] = [];
  for (const [i, [args, answer]] of Object.entries(answers).entries()) {
    await writeFile(join(home, `${i}.out`), answer.stdout ?? "");
    await writeFile(join(home, `${i}.err`), answer.stderr ?? "");
    // A trailing "*" matches any rest, such as a nonce.
    const pattern = args.endsWith("*") ? `'${args.slice(0, -1)}'*` : `'${args}'`;
    cases.push(
      `  ${pattern})${answer.hang === true ? " exec sleep 30 ;;" : ` cat '${home}/${i}.out'; cat '${home}/${i}.err' >&2; exit ${answer.exitCode ?? 0} ;;`}`,
    );
  }
  const script = [
    "#!/bin/sh",
    // The provider hands the tool its own environment, which tests keep empty.
    "PATH=/usr/bin:/bin",
    `printf '%s NVAT_FORMAT=%s\\n' "$*" "$NVAT_FORMAT" >> '${log}'`,
    'case "$*" in',
    ...cases,
    '  *) echo "unexpected arguments: $*" >&2; exit 64 ;;',
    "esac",
    "",
  ].join("\n");
  const path = join(dir, name);
  await writeFile(path, script);
  await chmod(path, 0o755);
  return {
    path,
    calls: async () => (await readFile(log, "utf8")).split("\n").filter((l) => l !== ""),
  };
}

export interface FakeGpu {
  readonly busId: string;
  readonly model: string;
  readonly uuid: string;
}

/** /proc/driver/nvidia as the open kernel module writes it, under a fresh root. */
export async function fakeProcTree(
  root: string,
  gpus: readonly FakeGpu[],
  driver = "590.12",
): Promise<void> {
  const base = join(root, "proc/driver/nvidia");
  await mkdir(join(base, "gpus"), { recursive: true });
  await writeFile(
    join(base, "version"),
    `NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  ${driver}  Release Build  (dvs-builder@U22-I3-AE18-23-3)  Tue Oct  7 10:12:01 UTC 2025\nGCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04)\n`,
  );
  for (const [i, gpu] of gpus.entries()) {
    await mkdir(join(base, "gpus", gpu.busId), { recursive: true });
    await writeFile(
      join(base, "gpus", gpu.busId, "information"),
      [
        `Model: \t\t ${gpu.model}`,
        "IRQ:   \t\t 0",
        `GPU UUID: \t ${gpu.uuid}`,
        "Video BIOS: \t 96.00.a5.00.01",
        "Bus Type: \t PCIe",
        "DMA Size: \t 52 bits",
        "DMA Mask: \t 0xfffffffffffff",
        `Bus Location: \t ${gpu.busId}`,
        `Device Minor: \t ${i}`,
        "GPU Excluded:\t No",
        "",
      ].join("\n"),
    );
  }
}

export function h100s(count: number): FakeGpu[] {
  return Array.from({ length: count }, (_, i) => ({
    busId: `0000:${(0x18 + i * 0x10).toString(16).padStart(2, "0")}:00.0`,
    model: "NVIDIA H100 80GB HBM3",
    uuid: `GPU-00000000-0000-0000-0000-00000000000${i}`,
  }));
}

/** nvidia-smi answers for a CC-capable driver in the given state. */
export function smiAnswers(cc: "ON" | "OFF", devtools: "ON" | "OFF", ready: "ready" | "not-ready") {
  return {
    "conf-compute -f": { stdout: `CC status: ${cc}\n` },
    "conf-compute -d": { stdout: `DevTools Mode: ${devtools}\n` },
    "conf-compute -grs": { stdout: `Confidential Compute GPUs Ready state: ${ready}\n` },
  } satisfies Record<string, FakeAnswer>;
}

export async function workDir(): Promise<{ root: string; bin: string }> {
  const dir = await tempDir();
  const root = join(dir, "root");
  const bin = join(dir, "bin");
  await mkdir(root, { recursive: true });
  await mkdir(bin, { recursive: true });
  return { root, bin };
}
