/**
 * Browser entry for browser-verify.test.ts: bundled with esbuild for the browser platform and run
 * in headless Chromium, so it exercises exactly the code a web page gets from @cloister/core
 * (WebCrypto, no Node built-ins). The test server provides an SEV-SNP report with its VCEK, a
 * TDX quote with Intel's collateral and an Arm CCA token with its platform key; the page URL carries the verification times, because
 * verifiers never read the clock themselves.
 */
import { type AttestationResult, attest } from "@cloister/core";

/** One verification's outcome, as plain JSON. */
export interface BrowserVerdict {
  readonly verdict: string;
  readonly checks: readonly { code: string; status: string; message: string }[];
  readonly measurement?: string;
  /** Intel's TCB status, for the TDX quote. */
  readonly tcbStatus?: string;
}

/** What the page hands back to the test. */
export type BrowserResult =
  | ({
      readonly ok: true;
      readonly tdx: BrowserVerdict;
      readonly cca: BrowserVerdict;
    } & BrowserVerdict)
  | { readonly ok: false; readonly error: string };

declare global {
  interface Window {
    __result?: BrowserResult;
  }
}

async function fetchBytes(path: string): Promise<Uint8Array> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`GET ${path} answered ${response.status}.`);
  return new Uint8Array(await response.arrayBuffer());
}

async function run(): Promise<BrowserResult> {
  const params = new URL(window.location.href).searchParams;
  const now = params.get("now");
  const tdxNow = params.get("tdx_now");
  if (now === null || tdxNow === null) throw new Error("The page URL lacks ?now= or &tdx_now=.");
  const [report, vcek, quote, collateral, ccaToken, cpak] = await Promise.all([
    fetchBytes("/report.bin"),
    fetchBytes("/vcek.der"),
    fetchBytes("/tdx_quote"),
    fetchBytes("/tdx_collateral.json"),
    fetchBytes("/cca_token.cbor"),
    fetchBytes("/cca_platform.pub"),
  ]);
  const snp = await attest(
    { platform: "sev-snp", format: "snp-report", data: report },
    { platforms: ["sev-snp"], allowDebug: true },
    { now: new Date(now), collateral: { certificates: vcek } },
  );
  const tdx = await attest(
    { platform: "tdx", format: "tdx-quote", data: quote },
    { platforms: ["tdx"] },
    {
      now: new Date(tdxNow),
      collateral: { dcap_collateral: new TextDecoder().decode(collateral) },
    },
  );
  // CCA tokens carry no time-limited certificates: any time will do.
  const cca = await attest(
    { platform: "cca", format: "cca-token", data: ccaToken },
    { platforms: ["cca"] },
    { now: new Date(tdxNow), collateral: { cca_platform_keys: new TextDecoder().decode(cpak) } },
  );
  return { ok: true, ...verdict(snp), tdx: verdict(tdx), cca: verdict(cca) };
}

function verdict(result: AttestationResult): BrowserVerdict {
  const tcb = (result.claims?.platformClaims as { tcb?: { status: string } } | undefined)?.tcb;
  return {
    verdict: result.verdict,
    checks: result.checks.map(({ code, status, message }) => ({ code, status, message })),
    ...(result.claims === undefined ? {} : { measurement: result.claims.measurement }),
    ...(tcb === undefined ? {} : { tcbStatus: tcb.status }),
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
