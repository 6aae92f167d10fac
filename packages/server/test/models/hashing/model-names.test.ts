import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CloisterError } from "@cloister/core";
import {
  compareModelNames,
  ignoreComponents,
  isIgnored,
} from "../../../src/models/hashing/model-names.js";

describe("compareModelNames", () => {
  it("orders by path components, as Python sorts PurePosixPath", () => {
    // As plain strings "a-b/x" < "a/b" ("-" < "/"); pathlib compares ["a","b"] < ["a-b","x"].
    const names = ["a-b/x", "a/b", "a", "B", "a/b/c", "é", "😀", "\uffff"];
    assert.deepEqual(names.sort(compareModelNames), [
      "B",
      "a",
      "a/b",
      "a/b/c",
      "a-b/x",
      "é",
      "\uffff",
      "😀",
    ]);
  });
});

describe("ignore paths", () => {
  it("match whole leading components only", () => {
    const ignored = [ignoreComponents("a/b"), ignoreComponents("./c/"), ignoreComponents(".git")];
    assert.equal(isIgnored("a/b", ignored), true);
    assert.equal(isIgnored("a/b/deep/file", ignored), true);
    assert.equal(isIgnored("a/bc", ignored), false);
    assert.equal(isIgnored("a", ignored), false);
    assert.equal(isIgnored("c", ignored), true);
    assert.equal(isIgnored("x/.git", ignored), false);
  });

  for (const bad of ["/abs", "../up", "a/../../b", ".", "", "./"]) {
    it(`refuse ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => ignoreComponents(bad),
        (error: unknown) =>
          error instanceof CloisterError && error.code === "model.files.ignore_path",
      );
    });
  }
});
