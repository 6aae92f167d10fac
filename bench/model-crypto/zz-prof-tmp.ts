import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import {
  decryptModelFile,
  encryptModelFile,
  generateModelKey,
  modelKeyring,
} from "@cloister/server";

const n = 256 * 2 ** 20;
const src = "/dev/shm/p.bin";
await writeFile(src, randomBytes(n));
const key = generateModelKey("k");
for (const op of ["enc", "dec"]) {
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  for (let r = 0; r < 3; r++)
    op === "enc"
      ? await encryptModelFile(src, "/dev/shm/p.cenc", { key })
      : await decryptModelFile("/dev/shm/p.cenc", "/dev/shm/p.out", { keys: modelKeyring([key]) });
  const cpu = process.cpuUsage(cpu0);
  console.log(
    op,
    "wall",
    ((performance.now() - t) / 3).toFixed(0),
    "ms, cpu user",
    (cpu.user / 3e3).toFixed(0),
    "sys",
    (cpu.system / 3e3).toFixed(0),
  );
}
await rm(src);
await rm("/dev/shm/p.cenc");
await rm("/dev/shm/p.out");
