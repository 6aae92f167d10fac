import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import type { BrowserResult } from "./browser/verify-entry.js";
import { bundleForBrowser } from "./support/browser-bundle.js";
import { TESTVECTORS, type VectorEntry, vectorEntry } from "./support/testvectors.js";

/**
 * The browser build of @cloister/core must verify real hardware evidence, not just bundle: this
 * runs the bundled verifiers in headless Chromium (its WebCrypto, its X.509 handling) against a
 * real AMD report with its VCEK, and a real Intel TDX quote with Intel's collateral (TCB info,
 * QE identity, CRLs). Chromium is Debian's, installed by scripts/install-chromium.sh;
 * a missing browser fails the test rather than skipping it, so CI cannot pass without running it.
 */
const CHROMIUM = "/usr/bin/chromium";
const VECTOR_ID = "snp/oak-genoa-oc";
const ENTRY = fileURLToPath(new URL("./browser/verify-entry.ts", import.meta.url));
const TDX_ID = "tdx/dcap-qvl-uptodate";
const CCA_ID = "cca/tf-rmm-token-01";
const RESULT_TIMEOUT_MS = 60_000;

/** The one `parsed` value this test reads. */
type Parsed = { readonly measurement: string };

interface BrowserRun {
  readonly result: BrowserResult;
  /** Console output and uncaught errors of the page, for failure messages. */
  readonly log: readonly string[];
}

function loadVector(): { vector: VectorEntry; verifyAt: string } {
  const vector = vectorEntry(VECTOR_ID);
  // verify_at is prose; the instant the full verification runs at is the one to use.
  const verifyAt = /full verification at (\S+Z)\b/.exec(vector.verify_at)?.[1];
  assert.ok(verifyAt, `cannot find the verification time in: ${vector.verify_at}`);
  return { vector, verifyAt };
}

async function bundleEntry(): Promise<{ code: string; inputs: string[] }> {
  const result = await bundleForBrowser(ENTRY);
  const output = result.outputFiles[0];
  assert.ok(output, "esbuild produced no output");
  return { code: output.text, inputs: Object.keys(result.metafile.inputs) };
}

/** Serves the page, the bundle and the vector files on an ephemeral loopback port. */
async function serve(routes: ReadonlyMap<string, { type: string; body: string | Uint8Array }>) {
  const server = createServer((request, response) => {
    const route = routes.get(new URL(request.url ?? "/", "http://localhost").pathname);
    if (route === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": route.type, "cache-control": "no-store" });
    response.end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

async function runInChromium(url: string): Promise<BrowserRun> {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: run scripts/install-chromium.sh to install Debian's chromium.`,
  );
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage();
    const log: string[] = [];
    page.on("console", (message) => log.push(`console.${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => log.push(`pageerror: ${error.message}`));
    await page.goto(url);
    try {
      await page.waitForFunction(() => window.__result !== undefined, undefined, {
        timeout: RESULT_TIMEOUT_MS,
      });
    } catch (error) {
      assert.fail(`The page published no result: ${String(error)}\n${log.join("\n")}`);
    }
    const result = await page.evaluate(() => window.__result);
    assert.ok(result, "window.__result vanished");
    return { result, log };
  } finally {
    await browser.close();
  }
}

describe(`browser build of @cloister/core verifies ${VECTOR_ID} in Chromium`, () => {
  let server: Server | undefined;
  let setup: Promise<{ bundle: { code: string; inputs: string[] }; vector: VectorEntry }>;
  let browserRun: Promise<BrowserRun> | undefined;

  before(() => {
    setup = (async () => {
      const { vector, verifyAt } = loadVector();
      const bundle = await bundleEntry();
      const file = (kind: string) => {
        const path = vector.files[kind];
        assert.ok(path, `${VECTOR_ID} lists no "${kind}" file`);
        return readFile(join(TESTVECTORS, path));
      };
      const [report, vcek] = await Promise.all([file("report (derived)"), file("vcek (derived)")]);
      const tdx = vectorEntry(TDX_ID);
      const tdxFile = (kind: string) => {
        const path = tdx.files[kind];
        assert.ok(path, `${TDX_ID} lists no "${kind}" file`);
        return readFile(join(TESTVECTORS, path));
      };
      const [quote, collateral] = await Promise.all([tdxFile("quote"), tdxFile("collateral")]);
      const cca = vectorEntry(CCA_ID);
      const [ccaToken, cpak] = await Promise.all(
        ["token", "cpak_pem"].map((kind) => {
          const path = cca.files[kind];
          assert.ok(path, `${CCA_ID} lists no "${kind}" file`);
          return readFile(join(TESTVECTORS, path));
        }),
      );
      const tdxNow = /\d{4}-\d\d-\d\dT[\d:]+Z/.exec(tdx.verify_at)?.[0];
      assert.ok(tdxNow, `cannot find the verification time in: ${tdx.verify_at}`);
      const html =
        '<!doctype html><meta charset="utf-8"><script type="module" src="/entry.js"></script>';
      server = await serve(
        new Map([
          ["/", { type: "text/html; charset=utf-8", body: html }],
          ["/entry.js", { type: "text/javascript; charset=utf-8", body: bundle.code }],
          ["/report.bin", { type: "application/octet-stream", body: report }],
          ["/vcek.der", { type: "application/pkix-cert", body: vcek }],
          ["/tdx_quote", { type: "application/octet-stream", body: quote }],
          ["/tdx_collateral.json", { type: "application/json", body: collateral }],
          ["/cca_token.cbor", { type: "application/cbor", body: ccaToken as Buffer }],
          ["/cca_platform.pub", { type: "application/x-pem-file", body: cpak as Buffer }],
        ]),
      );
      const { port } = server.address() as AddressInfo;
      // One browser run serves both browser tests; started here so the first test to need it
      // does not pay for it twice.
      browserRun = runInChromium(
        `http://127.0.0.1:${port}/?now=${encodeURIComponent(verifyAt)}&tdx_now=${encodeURIComponent(tdxNow)}`,
      );
      browserRun.catch(() => {}); // reported by the tests that await it
      return { bundle, vector };
    })();
    setup.catch(() => {}); // reported by the tests that await it
  });

  after(async () => {
    await browserRun?.catch(() => {});
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  test("the bundle pulls in no Node built-ins", async () => {
    const { bundle } = await setup;
    assert.ok(bundle.inputs.some((path) => path.includes("src/attest/")));
    assert.deepEqual(
      bundle.inputs.filter((path) => path.startsWith("node:")),
      [],
    );
    assert.doesNotMatch(bundle.code, /(?:from\s*|import\s*\(\s*|require\(\s*)["']node:/);
  });

  test("the page runs attest and publishes a result", async () => {
    await setup;
    assert.ok(browserRun);
    const { result, log } = await browserRun;
    assert.ok(
      result.ok,
      `attest threw in the browser: ${result.ok ? "" : result.error}\n${log.join("\n")}`,
    );
    assert.ok(["affirming", "warning", "contraindicated"].includes(result.verdict));
    assert.ok(result.checks.length > 0);
  });

  test("the SNP report and its VCEK chain verify: affirming, with the indexed measurement", async () => {
    const { vector } = await setup;
    assert.ok(browserRun);
    const { result, log } = await browserRun;
    assert.ok(
      result.ok,
      `attest threw in the browser: ${result.ok ? "" : result.error}\n${log.join("\n")}`,
    );
    const summary = result.checks.map((c) => `${c.status} ${c.code}: ${c.message}`).join("\n");
    assert.equal(result.verdict, "affirming", `checks:\n${summary}`);
    assert.equal(result.measurement, (vector.parsed as Parsed).measurement.toLowerCase());
    assert.ok(
      result.checks.some((c) => c.code.startsWith("snp.chain") && c.status === "pass"),
      `no passed snp.chain* check:\n${summary}`,
    );
  });

  test("the TDX quote and Intel's collateral verify: affirming, UpToDate, the indexed MRTD", async () => {
    await setup;
    assert.ok(browserRun);
    const { result, log } = await browserRun;
    assert.ok(
      result.ok,
      `attest threw in the browser: ${result.ok ? "" : result.error}\n${log.join("\n")}`,
    );
    const summary = result.tdx.checks.map((c) => `${c.status} ${c.code}: ${c.message}`).join("\n");
    assert.equal(result.tdx.verdict, "affirming", `checks:\n${summary}`);
    assert.equal(result.tdx.tcbStatus, "UpToDate");
    const parsed = vectorEntry(TDX_ID).parsed as { readonly mr_td: string };
    assert.equal(result.tdx.measurement, parsed.mr_td.toLowerCase());
    for (const code of [
      "dcap.chain.pck",
      "dcap.quote.signature",
      "dcap.crl.pck",
      "dcap.tcb.level",
    ]) {
      assert.ok(
        result.tdx.checks.some((c) => c.code === code && c.status === "pass"),
        `no passed ${code}:\n${summary}`,
      );
    }
  });

  test("the CCA token verifies with its platform key: affirming, bound to its realm key", async () => {
    await setup;
    assert.ok(browserRun);
    const { result, log } = await browserRun;
    assert.ok(
      result.ok,
      `attest threw in the browser: ${result.ok ? "" : result.error}\n${log.join("\n")}`,
    );
    const summary = result.cca.checks.map((c) => `${c.status} ${c.code}: ${c.message}`).join("\n");
    assert.equal(result.cca.verdict, "affirming", `checks:\n${summary}`);
    for (const code of ["cca.platform.signature", "cca.realm.signature", "cca.binding"]) {
      assert.ok(
        result.cca.checks.some((c) => c.code === code && c.status === "pass"),
        `no passed ${code}:\n${summary}`,
      );
    }
  });
});
