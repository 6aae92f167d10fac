import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { bundleForBrowser } from "./support/browser-bundle.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * @cloister/core and the main entry of @cloister/client are for browsers too. Bundling them for
 * the browser platform fails on any Node built-in they (or their dependencies) pull in.
 */
for (const entry of ["packages/core/src/index.ts", "packages/client/src/index.ts"]) {
  test(`${entry} bundles for the browser without Node built-ins`, async () => {
    const result = await bundleForBrowser(join(root, entry));
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.length > 1);
    assert.deepEqual(
      inputs.filter(
        (path) =>
          path.startsWith("node:") || /(^|\/)node_modules\/(buffer|crypto-browserify)\//.test(path),
      ),
      [],
    );
  });
}
