/**
 * Browser entry for browser-snp.test.ts: bundled with esbuild for the browser platform and run
 * in headless Chromium, so it exercises exactly the code a web page gets from @cloister/core
 * (WebCrypto, no Node built-ins). The test server provides the evidence and the VCEK; the page
 * URL carries the verification time, because verifiers never read the clock themselves.
 */
import { attest } from "@cloister/core";

/** What the page hands back to the test, as plain JSON. */
export type BrowserSnpResult =
  | {
      readonly ok: true;
      readonly verdict: string;
      readonly checks: readonly { code: string; status: string; message: string }[];
      readonly measurement?: string;
    }
  | { readonly ok: false; readonly error: string };

declare global {
  interface Window {
    __result?: BrowserSnpResult;
  }
}

async function fetchBytes(path: string): Promise<Uint8Array> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`GET ${path} answered ${response.status}.`);
  return new Uint8Array(await response.arrayBuffer());
}

async function run(): Promise<BrowserSnpResult> {
  const now = new URL(window.location.href).searchParams.get("now");
  if (now === null) throw new Error("The page URL has no ?now= verification time.");
  const [report, vcek] = await Promise.all([fetchBytes("/report.bin"), fetchBytes("/vcek.der")]);
  const result = await attest(
    { platform: "sev-snp", format: "snp-report", data: report },
    { platforms: ["sev-snp"], allowDebug: true },
    { now: new Date(now), collateral: { certificates: vcek } },
  );
  return {
    ok: true,
    verdict: result.verdict,
    checks: result.checks.map(({ code, status, message }) => ({ code, status, message })),
    ...(result.claims === undefined ? {} : { measurement: result.claims.measurement }),
  };
}

run().then(
  (result) => {
    window.__result = result;
  },
  (error: unknown) => {
    window.__result = {
      ok: false,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    };
  },
);
