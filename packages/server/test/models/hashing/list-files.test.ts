import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CloisterError } from "@cloister/core";
import { listModelFiles } from "../../../src/models/hashing/list-files.js";

const code = (expected: string) => (error: unknown) =>
  error instanceof CloisterError && error.code === expected;

let dir: string;
let serial = 0;

/** A fresh model directory holding `files` (name -> content). */
async function model(files: Record<string, string>): Promise<string> {
  const root = join(dir, `model-${serial++}`);
  await mkdir(root);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(root, name, ".."), { recursive: true });
    await writeFile(join(root, name), content);
  }
  return root;
}

const names = async (root: string, options = {}) =>
  (await listModelFiles(root, options)).map((file) => file.name);

before(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), "cloister-list-files-")));
});
after(() => rm(dir, { recursive: true, force: true }));

describe("listModelFiles", () => {
  it("names nested files by POSIX path relative to the root, sorted as model_signing sorts", async () => {
    const root = await model({
      "z.bin": "z",
      "a-b/x": "1",
      "a/b": "2",
      "a/c/d.json": "3",
      empty: "",
    });
    assert.deepEqual(await names(root), ["a/b", "a/c/d.json", "a-b/x", "empty", "z.bin"]);
  });

  it("leaves out git paths at the root only, unless asked to keep them", async () => {
    const root = await model({
      ".git/HEAD": "ref",
      ".gitattributes": "*",
      ".github/workflows/x.yml": "on",
      ".gitignore": "x",
      ".gitmodules": "m",
      "sub/.gitignore": "y",
      w: "w",
    });
    assert.deepEqual(await names(root), [".gitmodules", "sub/.gitignore", "w"]);
    assert.deepEqual(await names(root, { ignoreGitPaths: false }), [
      ".git/HEAD",
      ".gitattributes",
      ".github/workflows/x.yml",
      ".gitignore",
      ".gitmodules",
      "sub/.gitignore",
      "w",
    ]);
  });

  it("ignores files and whole directories named relative to the root", async () => {
    const root = await model({ "model.sig": "s", "ignore-me": "", "d/e/f": "1", de: "2", k: "3" });
    assert.deepEqual(await names(root, { ignorePaths: ["model.sig", "ignore-me", "d/e"] }), [
      "de",
      "k",
    ]);
    assert.deepEqual(await names(root, { ignorePaths: ["d"] }), [
      "de",
      "ignore-me",
      "k",
      "model.sig",
    ]);
  });

  it("names a single-file model '.' and gives its absolute path and identity", async () => {
    const root = await model({ "weights.gguf": "12345" });
    const [file, ...rest] = await listModelFiles(join(root, "weights.gguf"));
    assert.equal(rest.length, 0);
    assert.equal(file?.name, ".");
    assert.equal(file?.path, join(root, "weights.gguf"));
    assert.equal(file?.realPath, join(root, "weights.gguf"));
    assert.equal(file?.size, 5);
    assert.equal(typeof file?.ino, "bigint");
    assert.ok((file?.ctimeNs ?? 0n) > 0n);
  });

  it("refuses symlinks unless allowed; allowed, a file link is listed as itself, a directory link skipped", async () => {
    const root = await model({ "real/a": "aaa", b: "b" });
    const outside = await model({ "t.bin": "target" });
    await symlink(join(outside, "t.bin"), join(root, "link.bin"));
    await symlink(join(root, "real"), join(root, "dirlink"));
    await assert.rejects(listModelFiles(root), code("model.files.symlink"));
    const files = await listModelFiles(root, { allowSymlinks: true });
    assert.deepEqual(
      files.map((f) => [f.name, f.size]),
      [
        ["b", 1],
        ["link.bin", 6],
        ["real/a", 3],
      ],
    );
    assert.equal(files[1]?.realPath, join(outside, "t.bin"));
    // An ignored symlink is no error, as in model_signing.
    assert.deepEqual(await names(root, { ignorePaths: ["link.bin", "dirlink"] }), ["b", "real/a"]);
  });

  it("refuses a dangling symlink even when links are allowed", async () => {
    const root = await model({ a: "a" });
    await symlink(join(root, "nowhere"), join(root, "dangling"));
    await assert.rejects(
      listModelFiles(root, { allowSymlinks: true }),
      code("model.files.unreadable"),
    );
  });

  it("refuses a root that is a symlink unless allowed", async () => {
    const root = await model({ a: "a" });
    await symlink(root, `${root}-link`);
    await assert.rejects(listModelFiles(`${root}-link`), code("model.files.symlink"));
    assert.deepEqual(await names(`${root}-link`, { allowSymlinks: true }), ["a"]);
  });

  it("refuses special files and a missing root", async () => {
    const root = await model({ a: "a" });
    execFileSync("mkfifo", [join(root, "pipe")]);
    await assert.rejects(listModelFiles(root), code("model.files.special"));
    assert.deepEqual(await names(root, { ignorePaths: ["pipe"] }), ["a"]);
    await assert.rejects(listModelFiles(join(dir, "absent")), code("model.files.root_missing"));
  });

  it("refuses an ignore path outside the model", async () => {
    const root = await model({ a: "a" });
    await assert.rejects(names(root, { ignorePaths: ["../a"] }), code("model.files.ignore_path"));
  });
});
