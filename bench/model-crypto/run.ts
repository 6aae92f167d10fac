/**
 * `npm run bench:model-crypto`: how fast Cloister encrypts and decrypts model files (the segmented
 * AES-256-GCM format of docs/model-encryption-format.md), beside OpenSSL's own AES-256-GCM speed
 * measured in the same run. See bench/README.md.
 */

import { execFileSync } from "node:child_process";
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { deriveModelFileKey, ENC_DEFAULT_SEGMENT_SIZE } from "@cloister/core";
import {
  decryptModelFile,
  encryptModelFile,
  encryptModelStream,
  generateModelKey,
  modelKeyring,
  openEncryptedModel,
} from "@cloister/server";
import {
  openSegment,
  sealSegment,
} from "../../packages/server/src/models/encryption/segment-cipher.js";
import { type GitState, gitState, type Machine, machine } from "../shared/machine.js";
import { COMMON_OPTIONS } from "../shared/options.js";
import { publishResult } from "../shared/results.js";
import { round } from "../shared/stats.js";
import { table } from "../shared/table.js";

const USAGE = `Usage: npm run bench:model-crypto -- [options]

  --size N             plaintext bytes of the generated model file (default 1g; k, m, g = 2^10, 2^20, 2^30)
  --segment-sizes L    comma-separated segment sizes to compare (default 64k,256k,1m,4m)
  --openssl-seconds S  seconds \`openssl speed\` runs (default 3)
  --quick              --size 128m --openssl-seconds 1
  --dir DIR            where the generated file and its copies go (default /dev/shm where it
                       exists, as a workload decrypts into tmpfs; else the OS temp dir)
  --out DIR            where results go (default bench/results)
  -h, --help           this text`;

type Operation = "encrypt" | "decrypt";
type Mode = "aead-cached" | "aead-memory" | "stream-memory" | "file";

interface Row {
  readonly mode: Mode;
  readonly operation: Operation;
  readonly segmentSize: number;
  /** What one measurement does, in a sentence. */
  readonly what: string;
  readonly bytes: number;
  readonly seconds: number;
  /** Plaintext megabytes (10^6 bytes) per second. */
  readonly mbPerSecond: number;
  /** This row's MB/s over OpenSSL's AES-256-GCM at 16384-byte blocks; null without OpenSSL. */
  readonly vsOpenssl: number | null;
}

export interface ModelCryptoBenchResult {
  readonly schema: "cloister/bench/model-crypto/v1";
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: Machine;
  readonly git: GitState | null;
  readonly parameters: {
    readonly plaintextBytes: number;
    readonly segmentSizes: readonly number[];
    readonly defaultSegmentSize: number;
    readonly opensslSeconds: number;
    /** Where the file rows read and wrote. */
    readonly dir: string;
  };
  readonly baselines: {
    readonly openssl: {
      readonly version: string;
      readonly command: string;
      readonly mbPerSecond16384: number;
    } | null;
    /** One node:crypto AES-256-GCM cipher over the whole buffer in 1 MiB updates: no per-segment set-up (a reference). */
    readonly nodeSingleCipherMbPerSecond: number;
    readonly nodeSha256MbPerSecond: number;
  };
  readonly rows: readonly Row[];
  readonly targets: readonly {
    readonly name: string;
    readonly threshold: number;
    readonly measured: number | null;
    readonly met: boolean | null;
  }[];
  readonly notes: readonly string[];
}

interface Options {
  readonly size: number;
  readonly segmentSizes: readonly number[];
  readonly opensslSeconds: number;
  readonly dir: string;
  readonly outDir: string;
}

function bytesOf(text: string): number {
  const match = /^(\d+)([kmg]?)$/i.exec(text.trim());
  if (match === null) throw new Error(`"${text}" is not a size such as 65536, 64k, 1m or 1g.`);
  const unit = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[(match[2] ?? "").toLowerCase()] ?? 1;
  return Number(match[1]) * unit;
}

function parseOptions(argv: readonly string[]): Options | "help" {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      size: { type: "string" },
      "segment-sizes": { type: "string", default: "64k,256k,1m,4m" },
      "openssl-seconds": { type: "string" },
      quick: { type: "boolean", default: false },
      dir: { type: "string" },
      ...COMMON_OPTIONS,
    },
    strict: true,
  });
  if (values.help) return "help";
  const seconds = Number(values["openssl-seconds"] ?? (values.quick ? "1" : "3"));
  if (!Number.isInteger(seconds) || seconds < 0)
    throw new Error("--openssl-seconds must be a whole number (0 skips OpenSSL).");
  return {
    size: bytesOf(values.size ?? (values.quick ? "128m" : "1g")),
    segmentSizes: values["segment-sizes"].split(",").map(bytesOf),
    opensslSeconds: seconds,
    dir: resolve(values.dir ?? (existsSync("/dev/shm") ? "/dev/shm" : tmpdir())),
    outDir: resolve(values.out),
  };
}

const progress = (line: string) => process.stderr.write(`[bench:model-crypto] ${line}\n`);
const mbps = (bytes: number, seconds: number) => round(bytes / 1e6 / seconds, 1);

/** The AEAD rows are short: the best of a few runs, as `openssl speed` reports a steady state. */
const AEAD_REPEATS = 3;

async function best(repeats: number, run: () => unknown): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeats; i++) fastest = Math.min(fastest, await timed(run));
  return fastest;
}

async function timed(run: () => unknown): Promise<number> {
  const start = performance.now();
  await run();
  return (performance.now() - start) / 1000;
}

/** `openssl speed -evp aes-256-gcm -bytes 16384`: OpenSSL's best case, one context, no per-block setup. */
function opensslSpeed(seconds: number): ModelCryptoBenchResult["baselines"]["openssl"] {
  if (seconds === 0) return null;
  const args = ["speed", "-evp", "aes-256-gcm", "-bytes", "16384", "-seconds", String(seconds)];
  try {
    const version = execFileSync("openssl", ["version"], { encoding: "utf8" }).trim();
    const text = execFileSync("openssl", args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const line = text.split("\n").find((l) => /^AES-256-GCM\s/i.test(l));
    const value = line === undefined ? undefined : /([\d.]+)k\s*$/.exec(line)?.[1];
    if (value === undefined) throw new Error("no AES-256-GCM line in its output");
    return {
      version,
      command: `openssl ${args.join(" ")}`,
      mbPerSecond16384: round(Number(value) / 1000, 1),
    };
  } catch (error) {
    progress(`openssl speed failed (${(error as Error).message}); no OpenSSL baseline`);
    return null;
  }
}

function nodeSingleCipher(plaintext: Buffer): number {
  const start = performance.now();
  const cipher = createCipheriv("aes-256-gcm", randomBytes(32), randomBytes(12));
  for (let i = 0; i < plaintext.length; i += 2 ** 20)
    cipher.update(plaintext.subarray(i, i + 2 ** 20));
  cipher.final();
  return mbps(plaintext.length, (performance.now() - start) / 1000);
}

function nodeSha256(plaintext: Buffer): number {
  const start = performance.now();
  createHash("sha256").update(plaintext).digest();
  return mbps(plaintext.length, (performance.now() - start) / 1000);
}

async function* chunks(buffers: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* buffers;
}

/** A model file of random bytes, written in 64 MiB pieces (random data: nothing compresses). */
async function generateFile(path: string, size: number): Promise<void> {
  const handle = await open(path, "w", 0o600);
  try {
    const piece = randomBytes(Math.min(size, 64 * 2 ** 20));
    for (let written = 0; written < size; written += piece.length)
      await handle.write(piece, 0, Math.min(piece.length, size - written));
  } finally {
    await handle.close();
  }
}

async function measureSegmentSize(
  plaintext: Buffer,
  segmentSize: number,
  dir: string,
  source: string,
): Promise<Omit<Row, "vsOpenssl">[]> {
  const key = generateModelKey("bench");
  const keys = modelKeyring([key]);
  const rows: Omit<Row, "vsOpenssl">[] = [];
  const add = (
    mode: Mode,
    operation: Operation,
    what: string,
    seconds: number,
    bytes = plaintext.length,
  ) =>
    rows.push({
      mode,
      operation,
      segmentSize,
      what,
      bytes,
      seconds: round(seconds, 6),
      mbPerSecond: mbps(bytes, seconds),
    });

  // The AEAD alone: what the format costs over raw AES-GCM (a cipher set up per segment, the
  // header as AAD, one tag per segment), without hashing, I/O or streams.
  const fileKey = deriveModelFileKey(key.bytes, randomBytes(32), key.id).key;
  const aad = randomBytes(141);
  const prefix = randomBytes(7);
  const count = Math.max(1, Math.ceil(plaintext.length / segmentSize));
  const segment = (i: number) => plaintext.subarray(i * segmentSize, (i + 1) * segmentSize);
  const seal = (i: number) => sealSegment(fileKey, aad, prefix, i, i === count - 1, segment(i));
  // Like `openssl speed`, which encrypts one 16 KiB buffer over and over: the same segment each
  // time, so input and output stay in the CPU's caches and only the cipher work is measured.
  const first = Buffer.from(segment(0));
  const cachedSeal = (i: number) => sealSegment(fileKey, aad, prefix, i, false, first);
  add(
    "aead-cached",
    "encrypt",
    `sealSegment over the same in-cache segment, as many times as the buffer has segments (best of ${AEAD_REPEATS})`,
    await best(AEAD_REPEATS, () => {
      for (let i = 0; i < count; i++) cachedSeal(i);
    }),
    count * first.length,
  );
  const firstSealed = Buffer.concat(cachedSeal(0));
  add(
    "aead-cached",
    "decrypt",
    `openSegment over the same in-cache sealed segment, as many times as the buffer has segments (best of ${AEAD_REPEATS})`,
    await best(AEAD_REPEATS, () => {
      for (let i = 0; i < count; i++) {
        if (openSegment(fileKey, aad, prefix, 0, false, firstSealed) === undefined)
          throw new Error("a segment did not open");
      }
    }),
    count * first.length,
  );
  add(
    "aead-memory",
    "encrypt",
    `sealSegment over every segment of a buffer in memory, output discarded as openssl speed does (best of ${AEAD_REPEATS})`,
    await best(AEAD_REPEATS, () => {
      for (let i = 0; i < count; i++) seal(i);
    }),
  );
  const sealed = Array.from({ length: count }, (_, i) => Buffer.concat(seal(i)));
  add(
    "aead-memory",
    "decrypt",
    `openSegment over every sealed segment in memory, output discarded (best of ${AEAD_REPEATS})`,
    await best(AEAD_REPEATS, () => {
      for (let i = 0; i < count; i++) {
        if (
          openSegment(fileKey, aad, prefix, i, i === count - 1, sealed[i] as Buffer) === undefined
        )
          throw new Error("a segment did not open");
      }
    }),
  );
  sealed.length = 0;

  // The streaming API in memory: SHA-256 of the plaintext included (the header carries it).
  const pieces: Uint8Array[] = [];
  add(
    "stream-memory",
    "encrypt",
    "SHA-256 of the buffer, then encryptModelStream over it in 1 MiB chunks",
    await timed(async () => {
      const digest = createHash("sha256").update(plaintext).digest();
      const input = [] as Buffer[];
      for (let i = 0; i < plaintext.length; i += 2 ** 20)
        input.push(plaintext.subarray(i, i + 2 ** 20));
      for await (const piece of encryptModelStream(chunks(input), {
        key,
        segmentSize,
        plaintextLength: plaintext.length,
        plaintextSha256: digest,
      }))
        pieces.push(piece);
    }),
  );
  let out = 0;
  add(
    "stream-memory",
    "decrypt",
    "openEncryptedModel over the encrypted chunks: every segment authenticated, SHA-256 checked",
    await timed(async () => {
      for await (const piece of openEncryptedModel(chunks(pieces), keys)) out += piece.length;
    }),
  );
  if (out !== plaintext.length) throw new Error("the in-memory round trip lost bytes");
  pieces.length = 0;

  const encrypted = join(dir, "model.bin.cenc");
  const decrypted = join(dir, "model.bin.out");
  add(
    "file",
    "encrypt",
    "encryptModelFile: SHA-256 pass, then read, seal, write a temporary file, fsync, rename",
    await timed(() => encryptModelFile(source, encrypted, { key, segmentSize })),
  );
  add(
    "file",
    "decrypt",
    "decryptModelFile: read, open, SHA-256, write a temporary file, fsync, rename",
    await timed(() => decryptModelFile(encrypted, decrypted, { keys })),
  );
  await rm(encrypted);
  await rm(decrypted);
  return rows;
}

function formatReport(result: ModelCryptoBenchResult): string {
  const m = result.machine;
  const o = result.baselines.openssl;
  return [
    `Model encryption — ${(result.parameters.plaintextBytes / 2 ** 20).toFixed(0)} MiB, ${m.cpuModel} x${m.cores}, Node ${m.node}`,
    `OpenSSL AES-256-GCM (16384-byte blocks): ${o === null ? "not measured" : `${o.mbPerSecond16384} MB/s (${o.version})`}; node:crypto single cipher: ${result.baselines.nodeSingleCipherMbPerSecond} MB/s; SHA-256: ${result.baselines.nodeSha256MbPerSecond} MB/s`,
    "",
    table(
      ["mode", "operation", "segment", "MB/s", "÷ OpenSSL"],
      result.rows.map((r) => [
        r.mode,
        r.operation,
        `${r.segmentSize / 1024} KiB`,
        r.mbPerSecond.toFixed(1),
        r.vsOpenssl === null ? "-" : `${r.vsOpenssl.toFixed(2)}x`,
      ]),
      3,
    ),
    "",
    ...result.targets.map(
      (t) =>
        `target ${t.name} >= ${t.threshold}: ${t.measured ?? "-"} (${t.met === null ? "not measured" : t.met ? "met" : "NOT met"})`,
    ),
    ...result.notes.map((note) => `- ${note}`),
  ].join("\n");
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === "help") {
    console.log(USAGE);
    return;
  }
  const startedAt = new Date().toISOString();
  const where = machine();
  const dir = await mkdtemp(join(options.dir, "cloister-bench-model-crypto-"));
  try {
    progress(`openssl speed -evp aes-256-gcm (${options.opensslSeconds} s)`);
    const openssl = opensslSpeed(options.opensslSeconds);
    const source = join(dir, "model.bin");
    progress(`generating ${options.size} bytes`);
    await generateFile(source, options.size);
    const plaintext = await readFile(source);
    const single = await nodeSingleCipher(plaintext);
    const sha = nodeSha256(plaintext);
    const rows: Row[] = [];
    for (const segmentSize of options.segmentSizes) {
      progress(`segment size ${segmentSize}`);
      for (const row of await measureSegmentSize(plaintext, segmentSize, dir, source))
        rows.push({
          ...row,
          vsOpenssl: openssl === null ? null : round(row.mbPerSecond / openssl.mbPerSecond16384, 3),
        });
    }
    const target = (mode: Mode, operation: Operation) => {
      const row = rows.find(
        (r) =>
          r.segmentSize === ENC_DEFAULT_SEGMENT_SIZE &&
          r.mode === mode &&
          r.operation === operation,
      );
      const measured = row?.vsOpenssl ?? null;
      return {
        name: `${mode} ${operation} at the default segment size ÷ OpenSSL`,
        threshold: 0.8,
        measured,
        met: measured === null ? null : measured >= 0.8,
      };
    };
    const result: ModelCryptoBenchResult = {
      schema: "cloister/bench/model-crypto/v1",
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: where,
      git: gitState(),
      parameters: {
        plaintextBytes: options.size,
        segmentSizes: options.segmentSizes,
        defaultSegmentSize: ENC_DEFAULT_SEGMENT_SIZE,
        opensslSeconds: options.opensslSeconds,
        dir: options.dir,
      },
      baselines: { openssl, nodeSingleCipherMbPerSecond: single, nodeSha256MbPerSecond: sha },
      rows,
      targets: [
        target("aead-cached", "encrypt"),
        target("aead-cached", "decrypt"),
        target("aead-memory", "encrypt"),
        target("aead-memory", "decrypt"),
      ],
      notes: [
        "MB/s are plaintext megabytes (10^6 bytes) per second, the aead-memory rows the best of three runs, the others measured once, one operation at a time on one event loop.",
        "aead-cached is the like-for-like comparison with openssl speed (one buffer, in cache); aead-memory streams the whole buffer through memory, as decrypting a real model does, and is bounded by memory bandwidth as much as by AES.",
        "aead-* rows are the format's AES-256-GCM alone; stream-memory and file also compute the plaintext SHA-256 (bounded by the SHA-256 baseline), and file rows read and write the page cache and fsync.",
        "openssl speed encrypts 16384-byte blocks with one context; it does not run GCM decryption, so decrypt rows are compared with its encryption speed.",
      ],
    };
    await publishResult("model-crypto", result, options.outDir, formatReport, progress);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
