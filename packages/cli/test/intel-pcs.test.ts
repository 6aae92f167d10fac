import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { TESTVECTORS, vectorEntry } from "../../core/test/support/testvectors.js";
import {
  DCAP_COLLATERAL_FORMAT,
  fetchDcapCollateral,
  type PcsOptions,
  type PcsRequest,
} from "../src/collateral/intel-pcs.js";
import {
  type LoopbackServer,
  type Route,
  rejection,
  routes,
  startLoopbackServer,
  tempCacheDirs,
  cachedFiles as unsortedCachedFiles,
} from "./support/http-fixture.js";

/** The go-tdx-guest SPR vector ships every PCS answer its mock PCS served, bodies and chains. */
const VECTOR = vectorEntry("tdx/go-tdx-guest-spr-v4");

interface Served {
  tcbInfo: Uint8Array;
  qeIdentity: Uint8Array;
  pckCrl: Uint8Array;
  rootCrl: Uint8Array;
  tcbInfoChain: string;
  qeIdentityChain: string;
  pckCrlChain: string;
}

let served: Served;
let fmspc: string;
const { cacheDir, removeAll } = tempCacheDirs("cloister-pcs-");

async function vector(role: string): Promise<Uint8Array> {
  const path = VECTOR.files[role];
  assert.ok(path !== undefined, `index.json names no ${role} file`);
  return new Uint8Array(await readFile(join(TESTVECTORS, path)));
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** As Intel sends it: only the characters a header cannot carry are escaped. */
const intelEncoded = (pem: string) => pem.replaceAll(" ", "%20").replaceAll("\n", "%0A");

before(async () => {
  served = {
    tcbInfo: await vector("tcb_info"),
    qeIdentity: await vector("qe_identity"),
    pckCrl: await vector("pck_crl"),
    rootCrl: await vector("root_crl"),
    tcbInfoChain: text(await vector("tcb_info_chain")),
    qeIdentityChain: text(await vector("qe_identity_chain")),
    pckCrlChain: text(await vector("pck_crl_chain")),
  };
  const pck = String(VECTOR.source_asserts?.["PCK extensions"]);
  const match = /FMSPC ([0-9a-f]{12})/.exec(pck);
  assert.ok(match, "index.json records the PCK certificate's FMSPC");
  fmspc = match[1] as string;
  assert.equal(JSON.parse(text(served.tcbInfo)).tcbInfo.fmspc, fmspc);
});

after(removeAll);

type Pcs = LoopbackServer;

/** Serves exactly these path+query strings; anything else is a 404, as PCS answers. */
const pcsRoutes = (table: Record<string, Route>, delayMs = 0) =>
  routes(table, "secret-looking body", delayMs);

const ROOT_CRL_PATH = "/IntelSGXRootCA.der";

/** The PCS answers for one quote, under the v4 paths, as Intel serves them. */
function pcsTable(tee: "sgx" | "tdx", ca: "platform" | "processor"): Record<string, Route> {
  return {
    [`/${tee}/certification/v4/tcb?fmspc=${fmspc}`]: {
      body: served.tcbInfo,
      headers: {
        "content-type": "application/json",
        "tcb-info-issuer-chain": encodeURIComponent(served.tcbInfoChain),
      },
    },
    [`/${tee}/certification/v4/qe/identity`]: {
      body: served.qeIdentity,
      headers: {
        "content-type": "application/json",
        "sgx-enclave-identity-issuer-chain": encodeURIComponent(served.qeIdentityChain),
      },
    },
    [`/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`]: {
      body: served.pckCrl,
      headers: {
        "content-type": "application/pkix-crl",
        "sgx-pck-crl-issuer-chain": intelEncoded(served.pckCrlChain),
      },
    },
    [ROOT_CRL_PATH]: { body: served.rootCrl, headers: { "content-type": "application/pkix-crl" } },
  };
}

function expectedPaths(tee: "sgx" | "tdx", ca: "platform" | "processor"): string[] {
  return [
    `/${tee}/certification/v4/tcb?fmspc=${fmspc}`,
    `/${tee}/certification/v4/qe/identity`,
    `/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`,
    ROOT_CRL_PATH,
  ];
}

async function cachedFiles(dir: string): Promise<string[]> {
  return (await unsortedCachedFiles(dir)).sort();
}

function options(pcs: Pcs, dir: string, extra: Partial<PcsOptions> = {}): PcsOptions {
  return {
    baseUrl: pcs.baseUrl,
    rootCrlUrl: `${pcs.baseUrl}${ROOT_CRL_PATH}`,
    cacheDir: dir,
    ...extra,
  };
}

/** The vector's quote: TDX, its PCK certificate issued by the platform CA. */
const tdx = (): PcsRequest => ({ tee: "tdx", fmspc, ca: "platform" });

/** The DER inside a PEM CRL, checking the armour. */
function crlDer(pem: string): Uint8Array {
  const match =
    /^-----BEGIN X509 CRL-----\n((?:[A-Za-z0-9+/=]{1,64}\n)+)-----END X509 CRL-----\n$/.exec(pem);
  assert.ok(match, "PEM X509 CRL with 64-column lines");
  return new Uint8Array(Buffer.from((match[1] as string).replaceAll("\n", ""), "base64"));
}

/** Every member of the bundle equals what the server sent, byte for byte. */
function assertBundleIsServed(bundleText: string): void {
  const bundle = JSON.parse(bundleText) as Record<string, string>;
  assert.deepEqual(Object.keys(bundle), [
    "format",
    "tcbInfo",
    "qeIdentity",
    "tcbSigningChain",
    "pckCrl",
    "rootCrl",
    "pckCrlIssuerChain",
  ]);
  assert.equal(bundle.format, DCAP_COLLATERAL_FORMAT);
  assert.equal(bundle.format, "cloister/dcap-collateral/v1");
  assert.deepEqual(new Uint8Array(Buffer.from(bundle.tcbInfo as string)), served.tcbInfo);
  assert.deepEqual(new Uint8Array(Buffer.from(bundle.qeIdentity as string)), served.qeIdentity);
  assert.equal(bundle.tcbSigningChain, served.tcbInfoChain);
  assert.equal(bundle.pckCrlIssuerChain, served.pckCrlChain);
  assert.deepEqual(crlDer(bundle.pckCrl as string), served.pckCrl);
  assert.deepEqual(crlDer(bundle.rootCrl as string), served.rootCrl);
}

/** Moves every cache entry's fetch time back by this many hours. */
async function age(dir: string, hours: number): Promise<void> {
  for (const name of await cachedFiles(dir)) {
    const file = join(dir, name);
    const entry = JSON.parse(await readFile(file, "utf8"));
    entry.fetchedAt = new Date(Date.now() - hours * 3600 * 1000).toISOString();
    await writeFile(file, JSON.stringify(entry));
  }
}

describe("fetchDcapCollateral against a local PCS", () => {
  test("TDX: exact v4 paths, the served bodies and chains, then the cache", async () => {
    const pcs = await startLoopbackServer(pcsRoutes(pcsTable("tdx", "platform")));
    try {
      const dir = await cacheDir();
      const seen: string[] = [];
      const opts = options(pcs, dir, { onRequest: (u) => seen.push(u) });
      const first = await fetchDcapCollateral(tdx(), opts);
      assertBundleIsServed(first);
      assert.deepEqual(pcs.requests, expectedPaths("tdx", "platform"));
      assert.deepEqual(
        seen,
        expectedPaths("tdx", "platform").map((p) => `${pcs.baseUrl}${p}`),
      );

      // The vector's documents were past their nextUpdate when "served": still reused.
      assert.equal(await fetchDcapCollateral(tdx(), opts), first);
      assert.equal(pcs.requests.length, 4, "second call served from the cache");

      assert.equal((await stat(dir)).mode & 0o777, 0o700);
      const files = await cachedFiles(dir);
      assert.equal(files.length, 4);
      for (const suffix of ["tcb-info-tdx", "qe-identity-tdx", "pck-crl-platform", "root-ca-crl"]) {
        assert.ok(
          files.some((f) => new RegExp(`^[0-9a-f]{64}-${suffix}\\.json$`).test(f)),
          suffix,
        );
      }
    } finally {
      await pcs.close();
    }
  });

  test("SGX with the processor CA: the SGX paths and ca=processor", async () => {
    const pcs = await startLoopbackServer(pcsRoutes(pcsTable("sgx", "processor")));
    try {
      const request: PcsRequest = { tee: "sgx", fmspc: fmspc.toUpperCase(), ca: "processor" };
      assertBundleIsServed(await fetchDcapCollateral(request, options(pcs, await cacheDir())));
      assert.deepEqual(pcs.requests, expectedPaths("sgx", "processor"));
    } finally {
      await pcs.close();
    }
  });

  test("platform and processor CRLs are cached apart", async () => {
    const table = { ...pcsTable("tdx", "platform"), ...pcsTable("tdx", "processor") };
    const pcs = await startLoopbackServer(pcsRoutes(table));
    try {
      const opts = options(pcs, await cacheDir());
      await fetchDcapCollateral(tdx(), opts);
      await fetchDcapCollateral({ ...tdx(), ca: "processor" }, opts);
      assert.deepEqual(pcs.requests, [
        ...expectedPaths("tdx", "platform"),
        "/sgx/certification/v4/pckcrl?ca=processor&encoding=der",
      ]);
    } finally {
      await pcs.close();
    }
  });

  test("defaults: Intel's PCS and its root CA CRL URL", async () => {
    const pcs = await startLoopbackServer(pcsRoutes(pcsTable("tdx", "platform")));
    try {
      const asked: string[] = [];
      const redirect: typeof fetch = (input, init) => {
        const url = new URL(String(input));
        asked.push(url.href);
        return fetch(`${pcs.baseUrl}${url.pathname}${url.search}`, init);
      };
      const bundle = await fetchDcapCollateral(tdx(), {
        cacheDir: await cacheDir(),
        fetch: redirect,
      });
      assertBundleIsServed(bundle);
      assert.deepEqual(asked, [
        `https://api.trustedservices.intel.com/tdx/certification/v4/tcb?fmspc=${fmspc}`,
        "https://api.trustedservices.intel.com/tdx/certification/v4/qe/identity",
        "https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
        "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der",
      ]);
    } finally {
      await pcs.close();
    }
  });

  test("PCCS mode: the same paths, the root CA CRL from the PCCS as hex or DER", async () => {
    const rootcacrl = "/sgx/certification/v4/rootcacrl";
    for (const body of [Buffer.from(served.rootCrl).toString("hex"), served.rootCrl]) {
      const table = pcsTable("tdx", "platform");
      delete table[ROOT_CRL_PATH];
      table[rootcacrl] = { body };
      const pcs = await startLoopbackServer(pcsRoutes(table));
      try {
        const bundle = await fetchDcapCollateral(tdx(), {
          baseUrl: `${pcs.baseUrl}/`,
          pccs: true,
          cacheDir: await cacheDir(),
        });
        assertBundleIsServed(bundle);
        assert.deepEqual(pcs.requests, [
          ...expectedPaths("tdx", "platform").slice(0, 3),
          rootcacrl,
        ]);
      } finally {
        await pcs.close();
      }
    }
  });

  test("PCCS mode names the PCCS in errors", async () => {
    const pcs = await startLoopbackServer(pcsRoutes({}));
    try {
      const error = await rejection(
        fetchDcapCollateral(tdx(), {
          baseUrl: pcs.baseUrl,
          pccs: true,
          cacheDir: await cacheDir(),
        }),
      );
      const url = `${pcs.baseUrl}/tdx/certification/v4/tcb?fmspc=${fmspc}`;
      assert.equal(error.message, `PCCS answered HTTP 404 for ${url}.`);
    } finally {
      await pcs.close();
    }
  });

  test("refresh: true ignores the cache and asks again", async () => {
    const pcs = await startLoopbackServer(pcsRoutes(pcsTable("tdx", "platform")));
    try {
      const opts = options(pcs, await cacheDir());
      await fetchDcapCollateral(tdx(), opts);
      assertBundleIsServed(await fetchDcapCollateral(tdx(), { ...opts, refresh: true }));
      const paths = expectedPaths("tdx", "platform");
      assert.deepEqual(pcs.requests, [...paths, ...paths]);
    } finally {
      await pcs.close();
    }
  });

  test("entries are reused for 23 h and refetched at 25 h", async () => {
    const pcs = await startLoopbackServer(pcsRoutes(pcsTable("tdx", "platform")));
    try {
      const dir = await cacheDir();
      const opts = options(pcs, dir);
      await fetchDcapCollateral(tdx(), opts);
      await age(dir, 23);
      await fetchDcapCollateral(tdx(), opts);
      assert.equal(pcs.requests.length, 4);

      await age(dir, 25);
      assertBundleIsServed(await fetchDcapCollateral(tdx(), opts));
      const paths = expectedPaths("tdx", "platform");
      assert.deepEqual(pcs.requests, [...paths, ...paths]);
      for (const name of await cachedFiles(dir)) {
        const { fetchedAt } = JSON.parse(await readFile(join(dir, name), "utf8"));
        assert.ok(Date.now() - Date.parse(fetchedAt) < 60_000, `${name} was rewritten`);
      }
    } finally {
      await pcs.close();
    }
  });

  test("a TCB info is not reused past its nextUpdate", async () => {
    const document = JSON.parse(text(served.tcbInfo));
    document.tcbInfo.nextUpdate = new Date(Date.now() + 400).toISOString();
    const table = pcsTable("tdx", "platform");
    const tcbPath = expectedPaths("tdx", "platform")[0] as string;
    table[tcbPath] = { ...(table[tcbPath] as Route), body: JSON.stringify(document) };
    const pcs = await startLoopbackServer(pcsRoutes(table));
    try {
      const opts = options(pcs, await cacheDir());
      await fetchDcapCollateral(tdx(), opts);
      await fetchDcapCollateral(tdx(), opts);
      assert.equal(pcs.requests.length, 4, "fresh before nextUpdate");
      await sleep(500);
      await fetchDcapCollateral(tdx(), opts);
      assert.deepEqual(pcs.requests.slice(4), [tcbPath]);
    } finally {
      await pcs.close();
    }
  });

  test("a damaged cache entry is refetched and replaced", async () => {
    const pcs = await startLoopbackServer(pcsRoutes(pcsTable("tdx", "platform")));
    try {
      const dir = await cacheDir();
      const opts = options(pcs, dir);
      await fetchDcapCollateral(tdx(), opts);
      const files = await cachedFiles(dir);
      const crlFile = join(dir, files.find((f) => f.endsWith("-root-ca-crl.json")) as string);
      const good = await readFile(crlFile, "utf8");
      const entry = JSON.parse(good);
      for (const damage of [
        good.slice(0, 40),
        JSON.stringify({ ...entry, body: Buffer.from("<html>oops</html>").toString("base64") }),
      ]) {
        await writeFile(crlFile, damage);
        assertBundleIsServed(await fetchDcapCollateral(tdx(), opts));
      }
      assert.deepEqual(pcs.requests.slice(4), [ROOT_CRL_PATH, ROOT_CRL_PATH]);
    } finally {
      await pcs.close();
    }
  });

  test("no TCB-Info-Issuer-Chain header is pcs.missing_issuer_chain, and nothing is cached", async () => {
    const table = pcsTable("tdx", "platform");
    const tcbPath = expectedPaths("tdx", "platform")[0] as string;
    // The v3 header name is not the v4 one.
    table[tcbPath] = {
      body: served.tcbInfo,
      headers: { "sgx-tcb-info-issuer-chain": encodeURIComponent(served.tcbInfoChain) },
    };
    const pcs = await startLoopbackServer(pcsRoutes(table));
    try {
      const dir = await cacheDir();
      const url = `${pcs.baseUrl}${tcbPath}`;
      for (let i = 0; i < 2; i++) {
        const error = await rejection(fetchDcapCollateral(tdx(), options(pcs, dir)));
        assert.equal(error.code, "pcs.missing_issuer_chain");
        assert.equal(error.url, url);
        assert.match(error.message, /TCB-Info-Issuer-Chain/);
      }
      assert.deepEqual(pcs.requests, [tcbPath, tcbPath]);
    } finally {
      await pcs.close();
    }
  });

  test("no SGX-PCK-CRL-Issuer-Chain header is pcs.missing_issuer_chain", async () => {
    const table = pcsTable("tdx", "platform");
    const crlPath = expectedPaths("tdx", "platform")[2] as string;
    table[crlPath] = { body: served.pckCrl };
    const pcs = await startLoopbackServer(pcsRoutes(table));
    try {
      const error = await rejection(fetchDcapCollateral(tdx(), options(pcs, await cacheDir())));
      assert.equal(error.code, "pcs.missing_issuer_chain");
      assert.equal(error.url, `${pcs.baseUrl}${crlPath}`);
      assert.match(error.message, /SGX-PCK-CRL-Issuer-Chain/);
    } finally {
      await pcs.close();
    }
  });

  test("an issuer-chain header that is not URL-encoded PEM is pcs.bad_issuer_chain", async () => {
    const tcbPath = expectedPaths("tdx", "platform")[0] as string;
    for (const header of ["%E0%A4%A", encodeURIComponent("not a certificate")]) {
      const table = pcsTable("tdx", "platform");
      table[tcbPath] = { body: served.tcbInfo, headers: { "tcb-info-issuer-chain": header } };
      const pcs = await startLoopbackServer(pcsRoutes(table));
      try {
        const error = await rejection(fetchDcapCollateral(tdx(), options(pcs, await cacheDir())));
        assert.equal(error.code, "pcs.bad_issuer_chain");
      } finally {
        await pcs.close();
      }
    }
  });

  test("404 is pcs.http_status naming the URL and status, not the body", async () => {
    const pcs = await startLoopbackServer(pcsRoutes({}));
    try {
      const error = await rejection(fetchDcapCollateral(tdx(), options(pcs, await cacheDir())));
      const url = `${pcs.baseUrl}/tdx/certification/v4/tcb?fmspc=${fmspc}`;
      assert.equal(error.code, "pcs.http_status");
      assert.equal(error.status, 404);
      assert.equal(error.url, url);
      assert.equal(error.message, `Intel PCS answered HTTP 404 for ${url}.`);
      assert.doesNotMatch(error.message, /secret-looking/);
    } finally {
      await pcs.close();
    }
  });

  test("a 200 that is not the document is pcs.not_json / pcs.not_crl and is not cached", async () => {
    const paths = expectedPaths("tdx", "platform");
    const cases: [string, string][] = [
      [paths[0] as string, "pcs.not_json"],
      [paths[1] as string, "pcs.not_json"],
      [paths[2] as string, "pcs.not_crl"],
      [paths[3] as string, "pcs.not_crl"],
    ];
    for (const [path, code] of cases) {
      const table = pcsTable("tdx", "platform");
      table[path] = { ...(table[path] as Route), body: "<html>maintenance</html>" };
      const pcs = await startLoopbackServer(pcsRoutes(table));
      try {
        const dir = await cacheDir();
        assert.equal((await rejection(fetchDcapCollateral(tdx(), options(pcs, dir)))).code, code);
        assert.equal((await rejection(fetchDcapCollateral(tdx(), options(pcs, dir)))).code, code);
        assert.equal(pcs.requests.filter((p) => p === path).length, 2, `${path} not cached`);
      } finally {
        await pcs.close();
      }
    }
  });

  test("429 with Retry-After: 0 is retried once, then succeeds", async () => {
    const serve = pcsRoutes(pcsTable("tdx", "platform"));
    const pcs = await startLoopbackServer((req, res, n) => {
      if (n === 1) res.writeHead(429, { "retry-after": "0" }).end();
      else serve(req, res, n);
    });
    try {
      assertBundleIsServed(await fetchDcapCollateral(tdx(), options(pcs, await cacheDir())));
      const paths = expectedPaths("tdx", "platform");
      assert.deepEqual(pcs.requests, [paths[0], ...paths]);
    } finally {
      await pcs.close();
    }
  });

  test("429 with a long Retry-After, or twice, is pcs.rate_limited", async () => {
    for (const [retryAfter, requests] of [
      ["3600", 1],
      ["0", 2],
    ] as const) {
      const pcs = await startLoopbackServer((_req, res) =>
        res.writeHead(429, { "retry-after": retryAfter }).end(),
      );
      try {
        const error = await rejection(fetchDcapCollateral(tdx(), options(pcs, await cacheDir())));
        assert.equal(error.code, "pcs.rate_limited");
        assert.equal(error.status, 429);
        assert.equal(pcs.requests.length, requests);
      } finally {
        await pcs.close();
      }
    }
  });

  test("a server that never answers is pcs.timeout", async () => {
    const pcs = await startLoopbackServer(() => {});
    try {
      const error = await rejection(
        fetchDcapCollateral(tdx(), options(pcs, await cacheDir(), { timeoutMs: 200 })),
      );
      assert.equal(error.code, "pcs.timeout");
      assert.match(error.message, /did not answer/);
    } finally {
      await pcs.close();
    }
  });

  test("nothing listening is pcs.network", async () => {
    const pcs = await startLoopbackServer(() => {});
    await pcs.close();
    const error = await rejection(fetchDcapCollateral(tdx(), options(pcs, await cacheDir())));
    assert.equal(error.code, "pcs.network");
    assert.equal(
      error.message,
      `Could not reach Intel PCS at ${pcs.baseUrl}/tdx/certification/v4/tcb?fmspc=${fmspc}.`,
    );
  });

  test("requests go out one at a time", async () => {
    const table = { ...pcsTable("tdx", "platform"), ...pcsTable("sgx", "processor") };
    const pcs = await startLoopbackServer(pcsRoutes(table, 30));
    try {
      const dir = await cacheDir();
      await Promise.all([
        fetchDcapCollateral(tdx(), options(pcs, dir)),
        fetchDcapCollateral({ tee: "sgx", fmspc, ca: "processor" }, options(pcs, dir)),
      ]);
      assert.equal(pcs.maxInFlight, 1);
      assert.equal(pcs.requests.length, 8);
    } finally {
      await pcs.close();
    }
  });

  test("malformed requests are refused before any request", async () => {
    const pcs = await startLoopbackServer(pcsRoutes(pcsTable("tdx", "platform")));
    try {
      const bad: PcsRequest[] = [
        { ...tdx(), fmspc: fmspc.slice(2) },
        { ...tdx(), fmspc: `${fmspc.slice(2)}zz` },
        { ...tdx(), tee: "sev" as PcsRequest["tee"] },
        { ...tdx(), ca: "root" as PcsRequest["ca"] },
      ];
      for (const request of bad) {
        const error = await rejection(fetchDcapCollateral(request, options(pcs, await cacheDir())));
        assert.equal(error.code, "pcs.invalid_request");
      }
      assert.equal(pcs.requests.length, 0);
    } finally {
      await pcs.close();
    }
  });
});
