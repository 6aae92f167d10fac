import assert from "node:assert/strict";
import { readFile, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TESTVECTORS, vectorEntry } from "../../core/test/support/testvectors.js";
import {
  CollateralFetchError,
  fetchCertChain,
  fetchCrl,
  fetchVcek,
  type KdsRequest,
  vcekUrl,
} from "../src/collateral/amd-kds.js";
import {
  cachedFiles,
  type Handler,
  type Route,
  rejection,
  routes,
  startLoopbackServer,
  tempCacheDirs,
} from "./support/http-fixture.js";

/** The TCB parts index.json records for a report. */
function recordedTcb(id: string): Record<string, number> | undefined {
  return (vectorEntry(id).parsed as { reported_tcb_parts?: Record<string, number> } | undefined)
    ?.reported_tcb_parts;
}

/** The ABI offsets the request is built from (SEV-SNP ABI, ATTESTATION_REPORT). */
const KEY_INFO = 0x48;
const REPORTED_TCB = 0x180;
const CHIP_ID = 0x1a0;

async function vector(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(join(TESTVECTORS, path)));
}

/** The KDS request for a report, read from the report's own bytes. */
function requestFromReport(report: Uint8Array, product: KdsRequest["product"]): KdsRequest {
  const tcb = report.subarray(REPORTED_TCB, REPORTED_TCB + 8);
  const at = (i: number) => tcb[i] as number;
  const signing = ((report[KEY_INFO] as number) >> 2) & 0b111;
  return {
    product,
    chipId: report.slice(CHIP_ID, CHIP_ID + 64),
    tcb:
      product === "Turin"
        ? { fmc: at(0), bootloader: at(1), tee: at(2), snp: at(3), microcode: at(7) }
        : { bootloader: at(0), tee: at(1), snp: at(6), microcode: at(7) },
    signingKey: signing === 0 ? "vcek" : signing === 1 ? "vlek" : "none",
  };
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const two = (n: number) => String(n).padStart(2, "0");

/** Serves exactly these path+query strings, as KDS does; anything else is a 404. */
function kdsRoutes(table: Record<string, Uint8Array | string>, delayMs = 0): Handler {
  const typed: Record<string, Route> = {};
  for (const [path, body] of Object.entries(table)) {
    const pem = typeof body === "string";
    typed[path] = {
      body,
      headers: { "content-type": pem ? "application/x-pem-file" : "application/octet-stream" },
    };
  }
  return routes(typed, "Not Found", delayMs);
}

let milanReport: Uint8Array;
let milanVcek: Uint8Array;
let milanChain: string;
let turinReport: Uint8Array;
let turinVcek: Uint8Array;
/** Stand-ins for the AMD CRL (none is vendored): real DER CRLs; the adapter does not parse them. */
let crlA: Uint8Array;
let crlB: Uint8Array;
let milan: KdsRequest;
let milanPath: string;
const { cacheDir, removeAll } = tempCacheDirs("cloister-kds-");

before(async () => {
  milanReport = await vector("sev-snp/go-sev-guest-milan/attestation.bin");
  milanVcek = await vector("sev-snp/go-sev-guest-milan/vcek.der");
  milanChain = await readFile(join(TESTVECTORS, "sev-snp/amd-roots/milan_ask_ark.pem"), "utf8");
  turinReport = await vector("sev-snp/oak-turin-oc/report.bin");
  turinVcek = await vector("sev-snp/oak-turin-oc/vcek.der");
  crlA = await vector("tdx/go-tdx-guest-spr-v4/rootcrl.der");
  crlB = await vector("tdx/go-tdx-guest-spr-v4/pckcrl.der");
  milan = requestFromReport(milanReport, "Milan");
  const t = milan.tcb;
  milanPath =
    `/vcek/v1/Milan/${hex(milan.chipId)}` +
    `?blSPL=${two(t.bootloader)}&teeSPL=${two(t.tee)}&snpSPL=${two(t.snp)}&ucodeSPL=${two(t.microcode)}`;
});

after(removeAll);

describe("vcekUrl", () => {
  test("Milan: 64-byte hwid and the report's TCB, as the vectors' index records it", () => {
    const parts = recordedTcb("snp/go-sev-guest-milan");
    assert.deepEqual(
      {
        bl: milan.tcb.bootloader,
        tee: milan.tcb.tee,
        snp: milan.tcb.snp,
        ucode: milan.tcb.microcode,
      },
      parts,
    );
    assert.equal(milan.chipId.length, 64);
    assert.equal(vcekUrl(milan), `https://kdsintf.amd.com${milanPath}`);
    assert.match(vcekUrl(milan), /\?blSPL=02&teeSPL=00&snpSPL=05&ucodeSPL=68$/);
  });

  test("Turin: only the first 8 bytes of CHIP_ID, and fmcSPL", () => {
    const turin = requestFromReport(turinReport, "Turin");
    const parts = recordedTcb("snp/oak-turin-oc");
    const t = turin.tcb;
    assert.deepEqual(
      { fmc: t.fmc, bl: t.bootloader, tee: t.tee, snp: t.snp, ucode: t.microcode },
      parts,
    );
    const url = vcekUrl(turin, "http://kds.test/");
    assert.equal(
      url,
      `http://kds.test/vcek/v1/Turin/${hex(turinReport.subarray(CHIP_ID, CHIP_ID + 8))}` +
        `?blSPL=${two(t.bootloader)}&teeSPL=${two(t.tee)}&snpSPL=${two(t.snp)}` +
        `&ucodeSPL=${two(t.microcode)}&fmcSPL=${two(t.fmc as number)}`,
    );
    assert.match(url, /\/Turin\/[0-9a-f]{16}\?/);
  });

  test("SPLs of 100 and more are written in full", () => {
    const url = vcekUrl({ ...milan, tcb: { bootloader: 3, tee: 0, snp: 24, microcode: 217 } });
    assert.match(url, /\?blSPL=03&teeSPL=00&snpSPL=24&ucodeSPL=217$/);
  });

  test("a VLEK-signed report (AWS) is refused with a typed error that says why", async () => {
    const report = await vector("sev-snp/trustee-milan-vlek-aws/test-vlek-report.bin");
    const vlek = requestFromReport(report, "Milan");
    assert.equal(vlek.signingKey, "vlek");
    const error = await rejection(fetchVcek(vlek, { cacheDir: await cacheDir() }));
    assert.equal(error.code, "kds.vlek");
    assert.match(error.message, /VLEK/);
    assert.match(error.message, /cloud provider/);
  });

  test("malformed requests are refused before any request", () => {
    const cases: [KdsRequest, string][] = [
      [{ ...milan, chipId: milan.chipId.subarray(0, 63) }, "kds.invalid_request"],
      [{ ...milan, chipId: new Uint8Array(64) }, "kds.chip_id_masked"],
      [{ ...milan, tcb: { ...milan.tcb, snp: 256 } }, "kds.invalid_request"],
      [{ ...requestFromReport(turinReport, "Turin"), tcb: milan.tcb }, "kds.invalid_request"],
      [{ ...milan, product: "Naples" as KdsRequest["product"] }, "kds.invalid_request"],
    ];
    for (const [request, code] of cases) {
      assert.throws(
        () => vcekUrl(request),
        (e: unknown) => {
          assert.ok(e instanceof CollateralFetchError);
          assert.equal(e.code, code);
          return true;
        },
      );
    }
  });
});

describe("fetchVcek against a local KDS", () => {
  test("requests the exact URL, returns the DER and serves the second call from cache", async () => {
    const kds = await startLoopbackServer(kdsRoutes({ [milanPath]: milanVcek }));
    try {
      const dir = await cacheDir();
      const seen: string[] = [];
      const options = {
        baseUrl: kds.baseUrl,
        cacheDir: dir,
        onRequest: (u: string) => seen.push(u),
      };
      assert.deepEqual(await fetchVcek(milan, options), milanVcek);
      assert.deepEqual(await fetchVcek(milan, options), milanVcek);
      assert.deepEqual(kds.requests, [milanPath]);
      assert.deepEqual(seen, [`${kds.baseUrl}${milanPath}`]);
      assert.equal((await stat(dir)).mode & 0o777, 0o700);
      const files = await cachedFiles(dir);
      assert.equal(files.length, 1);
      assert.match(files[0] as string, /^[0-9a-f]{64}-vcek-Milan\.der$/);
      assert.deepEqual(new Uint8Array(await readFile(join(dir, files[0] as string))), milanVcek);
    } finally {
      await kds.close();
    }
  });

  test("Turin asks for the 8-byte hwid with fmcSPL", async () => {
    const turin = requestFromReport(turinReport, "Turin");
    const path = new URL(vcekUrl(turin)).pathname + new URL(vcekUrl(turin)).search;
    const kds = await startLoopbackServer(kdsRoutes({ [path]: turinVcek }));
    try {
      const bytes = await fetchVcek(turin, { baseUrl: kds.baseUrl, cacheDir: await cacheDir() });
      assert.deepEqual(bytes, turinVcek);
      assert.equal(kds.requests.length, 1);
      assert.match(
        kds.requests[0] as string,
        /^\/vcek\/v1\/Turin\/3b42092f69c656d3\?.*&fmcSPL=00$/,
      );
    } finally {
      await kds.close();
    }
  });

  test("refresh: true ignores the cache and asks again", async () => {
    const kds = await startLoopbackServer(kdsRoutes({ [milanPath]: milanVcek }));
    try {
      const options = { baseUrl: kds.baseUrl, cacheDir: await cacheDir() };
      await fetchVcek(milan, options);
      assert.deepEqual(await fetchVcek(milan, { ...options, refresh: true }), milanVcek);
      assert.deepEqual(kds.requests, [milanPath, milanPath]);
    } finally {
      await kds.close();
    }
  });

  test("a corrupted or truncated cache entry is refetched and replaced", async () => {
    const kds = await startLoopbackServer(kdsRoutes({ [milanPath]: milanVcek }));
    try {
      const dir = await cacheDir();
      const options = { baseUrl: kds.baseUrl, cacheDir: dir };
      await fetchVcek(milan, options);
      const file = join(dir, (await cachedFiles(dir))[0] as string);
      for (const damage of [
        new TextEncoder().encode("<html>oops</html>"),
        milanVcek.slice(0, 700),
      ]) {
        await writeFile(file, damage);
        assert.deepEqual(await fetchVcek(milan, options), milanVcek);
        assert.deepEqual(new Uint8Array(await readFile(file)), milanVcek);
      }
      assert.equal(kds.requests.length, 3);
    } finally {
      await kds.close();
    }
  });

  test("404 is kds.http_status naming the URL and status", async () => {
    const kds = await startLoopbackServer(kdsRoutes({}));
    try {
      const error = await rejection(
        fetchVcek(milan, { baseUrl: kds.baseUrl, cacheDir: await cacheDir() }),
      );
      assert.equal(error.code, "kds.http_status");
      assert.equal(error.status, 404);
      assert.equal(error.url, `${kds.baseUrl}${milanPath}`);
      assert.equal(error.message, `KDS answered HTTP 404 for ${kds.baseUrl}${milanPath}.`);
    } finally {
      await kds.close();
    }
  });

  test("a 200 that is not DER is kds.not_der and is not cached", async () => {
    const kds = await startLoopbackServer(kdsRoutes({ [milanPath]: "<html>maintenance</html>" }));
    try {
      const dir = await cacheDir();
      const options = { baseUrl: kds.baseUrl, cacheDir: dir };
      assert.equal((await rejection(fetchVcek(milan, options))).code, "kds.not_der");
      assert.equal((await rejection(fetchVcek(milan, options))).code, "kds.not_der");
      assert.equal(kds.requests.length, 2);
    } finally {
      await kds.close();
    }
  });

  test("429 with Retry-After: 1 is waited out once, then succeeds", async () => {
    const serve = kdsRoutes({ [milanPath]: milanVcek });
    const kds = await startLoopbackServer((req, res, n) => {
      if (n === 1) res.writeHead(429, { "retry-after": "1" }).end("slow down");
      else serve(req, res, n);
    });
    try {
      const started = Date.now();
      const bytes = await fetchVcek(milan, { baseUrl: kds.baseUrl, cacheDir: await cacheDir() });
      assert.deepEqual(bytes, milanVcek);
      assert.deepEqual(kds.requests, [milanPath, milanPath]);
      assert.ok(Date.now() - started >= 950, "waited for Retry-After");
    } finally {
      await kds.close();
    }
  });

  test("429 twice, or with a long Retry-After, fails as kds.rate_limited", async () => {
    const kds = await startLoopbackServer((req, res) =>
      res.writeHead(429, { "retry-after": req.url?.includes("crl") ? "3600" : "0" }).end(),
    );
    try {
      const dir = await cacheDir();
      const twice = await rejection(fetchVcek(milan, { baseUrl: kds.baseUrl, cacheDir: dir }));
      assert.equal(twice.code, "kds.rate_limited");
      assert.equal(twice.status, 429);
      assert.equal(kds.requests.length, 2);
      const started = Date.now();
      const long = await rejection(fetchCrl("Milan", { baseUrl: kds.baseUrl, cacheDir: dir }));
      assert.equal(long.code, "kds.rate_limited");
      assert.equal(kds.requests.length, 3, "no retry when Retry-After is too long");
      assert.ok(Date.now() - started < 5000);
    } finally {
      await kds.close();
    }
  });

  test("a server that never answers is kds.timeout", async () => {
    const kds = await startLoopbackServer(() => {});
    try {
      const error = await rejection(
        fetchVcek(milan, { baseUrl: kds.baseUrl, cacheDir: await cacheDir(), timeoutMs: 200 }),
      );
      assert.equal(error.code, "kds.timeout");
      assert.match(error.message, /did not answer/);
      assert.ok(error.message.includes(`${kds.baseUrl}${milanPath}`));
    } finally {
      await kds.close();
    }
  });

  test("nothing listening is kds.network", async () => {
    const kds = await startLoopbackServer(() => {});
    await kds.close();
    const error = await rejection(
      fetchVcek(milan, { baseUrl: kds.baseUrl, cacheDir: await cacheDir() }),
    );
    assert.equal(error.code, "kds.network");
    assert.equal(error.message, `Could not reach KDS at ${kds.baseUrl}${milanPath}.`);
  });

  test("requests go out one at a time", async () => {
    const chainPath = "/vcek/v1/Milan/cert_chain";
    const kds = await startLoopbackServer(
      kdsRoutes({ [milanPath]: milanVcek, [chainPath]: milanChain }, 50),
    );
    try {
      const options = { baseUrl: kds.baseUrl, cacheDir: await cacheDir() };
      await Promise.all([fetchVcek(milan, options), fetchCertChain("Milan", options)]);
      assert.equal(kds.requests.length, 2);
      assert.equal(kds.maxInFlight, 1);
    } finally {
      await kds.close();
    }
  });
});

describe("fetchCertChain and fetchCrl", () => {
  test("the cert chain is the ASK/ARK PEM, cached indefinitely", async () => {
    const kds = await startLoopbackServer(kdsRoutes({ "/vcek/v1/Milan/cert_chain": milanChain }));
    try {
      const dir = await cacheDir();
      const options = { baseUrl: kds.baseUrl, cacheDir: dir };
      assert.equal(await fetchCertChain("Milan", options), milanChain);
      const file = join(dir, (await cachedFiles(dir))[0] as string);
      const longAgo = new Date(Date.now() - 365 * 24 * 3600 * 1000);
      await utimes(file, longAgo, longAgo);
      assert.equal(await fetchCertChain("Milan", options), milanChain);
      assert.deepEqual(kds.requests, ["/vcek/v1/Milan/cert_chain"]);
    } finally {
      await kds.close();
    }
  });

  test("the CRL is reused for 24 h and refetched after", async () => {
    const kds = await startLoopbackServer((_req, res, n) =>
      res.writeHead(200, { "content-type": "application/pkix-crl" }).end(n === 1 ? crlA : crlB),
    );
    try {
      const dir = await cacheDir();
      const options = { baseUrl: kds.baseUrl, cacheDir: dir };
      assert.deepEqual(await fetchCrl("Genoa", options), crlA);
      const file = join(dir, (await cachedFiles(dir))[0] as string);
      assert.match(file, /-crl-Genoa\.der$/);

      const hours = (h: number) => new Date(Date.now() - h * 3600 * 1000);
      await utimes(file, hours(23), hours(23));
      assert.deepEqual(await fetchCrl("Genoa", options), crlA);
      assert.deepEqual(kds.requests, ["/vcek/v1/Genoa/crl"]);

      await utimes(file, hours(25), hours(25));
      assert.deepEqual(await fetchCrl("Genoa", options), crlB);
      assert.deepEqual(kds.requests, ["/vcek/v1/Genoa/crl", "/vcek/v1/Genoa/crl"]);
      assert.deepEqual(new Uint8Array(await readFile(file)), crlB);
    } finally {
      await kds.close();
    }
  });
});
