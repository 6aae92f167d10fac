import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CloisterError } from "@cloister/core";
import { TESTVECTORS, VECTOR_INDEX } from "../../../../core/test/support/testvectors.js";
import { READ_BYTES } from "../../../src/models/hashing/hash-file.js";
import { type HashProgress, hashModel } from "../../../src/models/hashing/hash-model.js";
import { hashInPool } from "../../../src/models/hashing/hash-pool.js";

const code = (expected: string) => (error: unknown) =>
  error instanceof CloisterError && error.code === expected;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloister-hash-model-"));
});
after(() => rm(dir, { recursive: true, force: true }));

interface Resource {
  readonly name: string;
  readonly digest: string;
}
interface Statement {
  readonly subject: readonly { readonly digest: { readonly sha256: string } }[];
  readonly predicate: {
    readonly resources: readonly Resource[];
    readonly serialization: { readonly ignore_paths?: readonly string[] };
  };
}

describe("hashModel on the model-signing test vectors", () => {
  const vectors = VECTOR_INDEX.filter(
    (entry) => entry.kind === "model-signing" && entry.files.bundle !== undefined,
  );
  it("covers every signed model in index.json", () => assert.equal(vectors.length, 12));

  for (const entry of vectors) {
    it(`reproduces ${entry.id}: every resource and the subject digest`, async () => {
      const bundlePath = `${TESTVECTORS}${entry.files.bundle}`;
      const bundle = JSON.parse(await readFile(bundlePath, "utf8")) as {
        dsseEnvelope: { payload: string };
      };
      const statement = JSON.parse(
        Buffer.from(bundle.dsseEnvelope.payload, "base64").toString("utf8"),
      ) as Statement;
      const { resources, serialization } = statement.predicate;
      const single = resources.length === 1 && resources[0]?.name === ".";
      const signme = entry.files.signme_1;
      assert.ok(signme !== undefined);
      // README §14: single-file models are `signme-1`; since v1.0.1 `ignore-me` must be ignored.
      const root = single ? `${TESTVECTORS}${signme}` : dirname(bundlePath);
      const result = await hashModel(root, {
        ignorePaths: serialization.ignore_paths ?? ["model.sig", "ignore-me"],
        cache: false,
      });
      assert.deepEqual(
        result.files.map((f) => ({ name: f.name, digest: f.sha256 })),
        resources.map((r) => ({ name: r.name, digest: r.digest })),
      );
      const subject = createHash("sha256");
      for (const file of result.files) subject.update(Buffer.from(file.sha256, "hex"));
      assert.equal(subject.digest("hex"), statement.subject[0]?.digest.sha256);
      assert.equal(result.cached, 0);
    });
  }
});

describe("hashModel", () => {
  const sizes = [0, 1, READ_BYTES - 1, READ_BYTES, READ_BYTES + 1, 3 * READ_BYTES + 5];
  let root: string;
  let expected: { name: string; sha256: string; size: number }[];
  before(async () => {
    root = join(dir, "sizes");
    await mkdir(join(root, "nested/deeper"), { recursive: true });
    expected = [];
    for (const [i, size] of sizes.entries()) {
      const name = i % 2 === 0 ? `f${i}` : `nested/deeper/f${i}`;
      const bytes = randomBytes(size);
      await writeFile(join(root, name), bytes);
      expected.push({ name, sha256: sha256(bytes), size });
    }
    expected.sort((a, b) => (a.name < b.name ? -1 : 1));
  });

  for (const workers of [1, 3]) {
    it(`equals node:crypto at every buffer boundary (${workers} thread(s))`, async () => {
      const result = await hashModel(root, { cache: false, workers });
      assert.deepEqual(result.files, expected);
      assert.equal(
        result.bytes,
        sizes.reduce((a, b) => a + b),
      );
    });
  }

  it("reports progress that only grows and ends at the totals", async () => {
    const seen: HashProgress[] = [];
    await hashModel(root, { cache: false, workers: 2, onProgress: (p) => seen.push(p) });
    const total = sizes.reduce((a, b) => a + b);
    assert.ok(seen.length > sizes.length);
    for (const [i, p] of seen.entries()) {
      assert.equal(p.bytesTotal, total);
      assert.equal(p.filesTotal, sizes.length);
      const before = seen[i - 1];
      if (before === undefined) continue;
      assert.ok(p.bytesDone >= before.bytesDone && p.filesDone >= before.filesDone);
    }
    assert.deepEqual(seen.at(-1), {
      bytesDone: total,
      bytesTotal: total,
      filesDone: sizes.length,
      filesTotal: sizes.length,
    });
  });

  it("stops with model.hash.aborted when the signal fires mid-file", async () => {
    const controller = new AbortController();
    await assert.rejects(
      hashModel(root, {
        cache: false,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.bytesDone > 0) controller.abort();
        },
      }),
      code("model.hash.aborted"),
    );
    await assert.rejects(
      hashModel(root, { cache: false, signal: AbortSignal.abort() }),
      code("model.hash.aborted"),
    );
  });

  it("refuses a worker count below 1", async () => {
    await assert.rejects(hashModel(root, { cache: false, workers: 0 }), code("model.hash.workers"));
  });
});

/** This process's OS threads (Linux), or -1 where /proc is absent. */
async function osThreads(): Promise<number> {
  const status = await readFile("/proc/self/status", "utf8").catch(() => "");
  return Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? -1);
}

describe("hashInPool (worker threads)", () => {
  let a: string;
  let b: string;
  const bytes = randomBytes(5 * READ_BYTES + 3);
  before(async () => {
    a = join(dir, "pool-a");
    b = join(dir, "pool-b");
    await writeFile(a, bytes);
    await writeFile(b, bytes.subarray(7));
  });

  const options = (onDigest: (i: number, hex: string) => void) => ({
    threads: 3,
    minBytesForWorkers: 0,
    onBytes: () => undefined,
    onDigest,
  });

  it("hashes on worker threads and this one alike", async () => {
    const jobs = [a, b, a, b].map((path) => ({
      path,
      size: path === a ? bytes.length : bytes.length - 7,
    }));
    const digests: string[] = [];
    await hashInPool(
      jobs,
      options((i, hex) => (digests[i] = hex)),
    );
    const [da, db] = [sha256(bytes), sha256(bytes.subarray(7))];
    assert.deepEqual(digests, [da, db, da, db]);
  });

  it("surfaces a worker's read failure as a typed error", async () => {
    const jobs = [
      { path: a, size: bytes.length },
      { path: join(dir, "vanished"), size: 10 },
    ];
    await assert.rejects(
      hashInPool(
        jobs,
        options(() => undefined),
      ),
      code("model.files.unreadable"),
    );
  });

  it("refuses a file whose size changed since it was listed", async () => {
    const jobs = [
      { path: a, size: bytes.length },
      { path: b, size: bytes.length },
      { path: b, size: 5 },
    ];
    await assert.rejects(
      hashInPool(
        jobs,
        options(() => undefined),
      ),
      code("model.files.changed"),
    );
  });

  it("cancels running workers on abort and leaves none behind", async () => {
    const threadsBefore = await osThreads();
    const controller = new AbortController();
    const jobs = [a, b, a].map((path) => ({
      path,
      size: path === a ? bytes.length : bytes.length - 7,
    }));
    await assert.rejects(
      hashInPool(jobs, {
        ...options(() => undefined),
        onBytes: () => controller.abort(),
        signal: controller.signal,
      }),
      code("model.hash.aborted"),
    );
    // Each worker is an OS thread; terminated ones are joined before hashInPool settles.
    assert.equal(await osThreads(), threadsBefore);
  });
});
