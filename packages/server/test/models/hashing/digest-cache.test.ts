import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DigestCache, defaultDigestCachePath } from "../../../src/models/hashing/digest-cache.js";
import { hashModel } from "../../../src/models/hashing/hash-model.js";
import { listModelFiles } from "../../../src/models/hashing/list-files.js";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

let dir: string;
let serial = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloister-digest-cache-"));
});
after(() => rm(dir, { recursive: true, force: true }));

/** A model and a cache path of its own; settleMs 0 so files written just now are cached. */
async function setup(files: Record<string, string>) {
  const root = join(dir, `m${serial++}`);
  await mkdir(root);
  for (const [name, content] of Object.entries(files)) await writeFile(join(root, name), content);
  const path = join(dir, `cache${serial}`, "digests.json");
  const warnings: string[] = [];
  const open = (extra = {}) =>
    DigestCache.open({ path, settleMs: 0, onWarning: (m) => warnings.push(m), ...extra });
  return { root, path, warnings, open };
}

describe("DigestCache with hashModel", () => {
  it("serves an unchanged file from the cache without reading it", async () => {
    const { root, path, open } = await setup({ a: "alpha", b: "bravo" });
    const first = await hashModel(root, { cache: await open() });
    assert.equal(first.cached, 0);
    const second = await hashModel(root, { cache: await open() });
    assert.equal(second.cached, 2);
    assert.deepEqual(second.files, first.files);

    // Proof that nothing was read: a digest planted for exactly this identity is returned as is.
    const text = await readFile(path, "utf8");
    const planted = "0".repeat(64);
    await writeFile(path, text.replace(sha256("alpha"), planted));
    const third = await hashModel(root, { cache: await open() });
    assert.equal(third.files.find((f) => f.name === "a")?.sha256, planted);
    assert.equal(third.cached, 2);
  });

  it("rehashes a file rewritten with the same size and its old mtime (ctime moved)", async () => {
    const { root, open } = await setup({ a: "alpha" });
    const file = join(root, "a");
    const pinned = 1_700_000_000; // whole seconds: utimes restores it to the nanosecond
    await utimes(file, pinned, pinned);
    const before = await stat(file, { bigint: true });
    assert.equal((await hashModel(root, { cache: await open() })).cached, 0);
    assert.equal((await hashModel(root, { cache: await open() })).cached, 1);
    await writeFile(file, "ALPHA");
    await utimes(file, pinned, pinned);
    const after = await stat(file, { bigint: true });
    assert.equal(after.mtimeNs, before.mtimeNs);
    assert.equal(after.size, before.size);
    assert.notEqual(after.ctimeNs, before.ctimeNs);
    const result = await hashModel(root, { cache: await open() });
    assert.equal(result.cached, 0);
    assert.equal(result.files[0]?.sha256, sha256("ALPHA"));
  });

  it("does not remember a file changed within the settle window", async () => {
    const { root, path } = await setup({ a: "alpha" });
    const cache = await DigestCache.open({ path });
    await hashModel(root, { cache });
    assert.equal(cache.size, 0);
    const [file] = await listModelFiles(root);
    assert.ok(file !== undefined);
    const later = await DigestCache.open({ path, now: () => Date.now() + 10_000 });
    later.set(file, sha256("alpha"));
    assert.equal(later.size, 1);
  });

  const corrupt: readonly (readonly [string, string])[] = [
    ["not JSON", "{not json"],
    ["of another schema", JSON.stringify({ schema: "x", entries: {} })],
    [
      "holding a malformed digest",
      JSON.stringify({
        schema: "cloister/digest-cache/v1",
        entries: { k: { sha256: "abc", usedAt: 1 } },
      }),
    ],
  ];
  for (const [what, text] of corrupt) {
    it(`ignores a cache file ${what} with a warning, then replaces it`, async () => {
      const { root, path, warnings, open } = await setup({ a: "alpha" });
      await mkdir(join(path, ".."), { recursive: true });
      await writeFile(path, text);
      const result = await hashModel(root, { cache: await open() });
      assert.equal(result.files[0]?.sha256, sha256("alpha"));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? "", /Ignoring the digest cache/);
      assert.equal((await open()).size, 1);
      assert.equal(warnings.length, 1);
    });
  }

  it("writes atomically, leaving no temporary file", async () => {
    const { root, path, open } = await setup({ a: "alpha" });
    await hashModel(root, { cache: await open() });
    assert.deepEqual(await readdir(join(path, "..")), ["digests.json"]);
  });

  it("evicts the least recently used entries beyond maxEntries", async () => {
    const { root, path } = await setup({ a: "1", b: "2", c: "3" });
    const files = await listModelFiles(root);
    let clock = Date.now() + 10_000;
    const cache = await DigestCache.open({ path, maxEntries: 2, now: () => clock++ });
    for (const file of files) cache.set(file, sha256(file.name));
    cache.get(files[0] as (typeof files)[0]);
    await cache.save();
    const reopened = await DigestCache.open({ path, maxEntries: 2 });
    assert.equal(reopened.size, 2);
    assert.equal(reopened.get(files[0] as (typeof files)[0]), sha256("a"));
    assert.equal(reopened.get(files[1] as (typeof files)[0]), undefined);
    assert.equal(reopened.get(files[2] as (typeof files)[0]), sha256("c"));
  });

  it("lives under CLOISTER_HOME, else XDG_CACHE_HOME, else ~/.cache", () => {
    assert.equal(
      defaultDigestCachePath({ CLOISTER_HOME: "/c", XDG_CACHE_HOME: "/x/cache" }),
      "/c/cache/digests.json",
    );
    assert.equal(
      defaultDigestCachePath({ XDG_CACHE_HOME: "/x/cache" }),
      "/x/cache/cloister/digests.json",
    );
    assert.match(defaultDigestCachePath({}), /\/\.cache\/cloister\/digests\.json$/);
    assert.match(defaultDigestCachePath({ XDG_CACHE_HOME: "relative" }), /\/\.cache\/cloister\//);
  });
});
