import { build } from "esbuild";

/**
 * Bundles one entry point the way a browser app would consume @cloister/core: browser platform,
 * ESM, the TypeScript sources (the "source" condition), kept in memory. The metafile lists every
 * input, so a test can tell whether a Node built-in slipped into the bundle.
 */
export function bundleForBrowser(entryPoint: string) {
  return build({
    entryPoints: [entryPoint],
    bundle: true,
    platform: "browser",
    format: "esm",
    conditions: ["source"],
    write: false,
    logLevel: "silent",
    metafile: true,
  });
}
