/**
 * End-to-end tests of `cloister attest verify` on Intel TDX and SGX quotes, run as a user would
 * run it (a child process with its own CLOISTER_HOME), on the real vectors in testvectors/ and
 * against a local stand-in for a PCCS. Expected values come from testvectors/index.json.
 * Independent runs go out together: each spawn costs about a second of tsx start-up.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { TESTVECTORS, vectorEntry } from "../../core/test/support/testvectors.js";
import {
  findCheck,
  type JsonOutput,
  jsonOutput,
  type Run,
  reasonCodes,
  runCloister,
} from "./support/cloister-cli.js";

const TDX = "tdx/dcap-qvl-uptodate";
const SGX = "sgx/dcap-qvl";
const SPR = "tdx/go-tdx-guest-spr-v4";
const GCP = "tdx/automata-gcp-v4";
const CCEL = "tdx/go-tdx-guest-gcp-ccel";

/** The `parsed` values index.json records for TDX quotes (SGX ones have mr_enclave instead). */
type Parsed = Record<
  "mr_td" | "mr_seam" | "rtmr0" | "rtmr1" | "rtmr2" | "rtmr3" | "report_data" | "mr_enclave",
  string
>;

/** index.json's own evaluation of a vector with collateral. */
interface OurCheck {
  fmspc: string;
  qe?: { qe_tcb_status: string };
  tdx_module_identity?: [string, string];
  /** [status, advisory IDs or null, TCB date], or null when no level matches. */
  platform_tcb_level?: [string, string[] | null, string] | null;
}

let home: string;
let scratch: string;

/** Runs `cloister attest verify <args>` with this file's CLOISTER_HOME, or `env.home`. */
function verify(args: string[], env: { home?: string } = {}): Promise<Run> {
  return runCloister(["attest", "verify", ...args], env.home ?? home);
}

function claims(output: JsonOutput): Record<string, unknown> {
  assert.ok(output.claims, `the result carries claims (status ${output.status})`);
  return output.claims;
}

function parsed(id: string): Parsed {
  return vectorEntry(id).parsed as Parsed;
}

function ourCheck(id: string): OurCheck {
  return vectorEntry(id).our_check as unknown as OurCheck;
}

/** The platform TCB level index.json computed: status and advisory IDs (none is []). */
function expectedLevel(id: string): { status: string; advisoryIds: string[] } {
  const level = ourCheck(id).platform_tcb_level;
  assert.ok(level, `index.json records a TCB level for ${id}`);
  return { status: level[0], advisoryIds: level[1] ?? [] };
}

/** A file of a vector, by its key in index.json (absolute path). */
function file(id: string, key: string): string {
  const path = vectorEntry(id).files[key];
  assert.ok(path, `${id} has no file "${key}" in index.json`);
  return join(TESTVECTORS, path);
}

/** The time the source verifies at: the first full timestamp of index.json's verify_at. */
function sourceTime(id: string): string {
  const match = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/.exec(vectorEntry(id).verify_at);
  assert.ok(match, `${id}'s verify_at names a time`);
  return match[0];
}

/** The middle of the "a..b" validity window index.json's verify_at states. */
function windowMiddle(id: string): string {
  const match = /(\d{4}-\d{2}-\d{2}(?:T[\d:]+Z)?)\.\.(\d{4}-\d{2}-\d{2}(?:T[\d:]+Z)?)/.exec(
    vectorEntry(id).verify_at,
  );
  assert.ok(match, `${id}'s verify_at states a window`);
  const [from, to] = [Date.parse(match[1] as string), Date.parse(match[2] as string)];
  return new Date(Math.floor((from + to) / 2000) * 1000).toISOString().replace(".000Z", "Z");
}

async function scratchFile(name: string, contents: string | Uint8Array): Promise<string> {
  const path = join(scratch, name);
  await writeFile(path, contents);
  return path;
}

function tdx(extra: string[]): Promise<Run> {
  return verify([
    file(TDX, "quote"),
    "--collateral",
    file(TDX, "collateral"),
    "--now",
    sourceTime(TDX),
    ...extra,
  ]);
}

function sgx(extra: string[]): Promise<Run> {
  return verify([
    file(SGX, "quote"),
    "--collateral",
    file(SGX, "collateral"),
    "--now",
    sourceTime(SGX),
    ...extra,
  ]);
}

/** go-tdx-guest's SPR quote with the PCS answers its mock served, one file per flag. */
function spr(now: string): Promise<Run> {
  return verify([
    file(SPR, "quote"),
    "--tcb-info",
    file(SPR, "tcb_info"),
    "--qe-identity",
    file(SPR, "qe_identity"),
    "--tcb-signing-chain",
    file(SPR, "tcb_info_chain"),
    "--pck-crl",
    file(SPR, "pck_crl"),
    "--root-crl",
    file(SPR, "root_crl"),
    "--now",
    now,
    "--json",
  ]);
}

/** The gcp CCEL quote with its event log; the PCK is valid 2024-07-02..2031-07-02. */
function ccel(extra: string[], log = file(CCEL, "ccel_data")): Promise<Run> {
  return verify([
    file(CCEL, "quote"),
    "--ccel",
    log,
    "--ccel-table",
    file(CCEL, "ccel_table"),
    "--now",
    windowMiddle(CCEL),
    ...extra,
  ]);
}

before(async () => {
  home = await mkdtemp(join(tmpdir(), "cloister-dcap-home-"));
  scratch = await mkdtemp(join(tmpdir(), "cloister-dcap-files-"));
});

after(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

test("TDX with dcap-qvl's collateral JSON is affirmed UpToDate, in text and in JSON", async () => {
  const expected = parsed(TDX);
  const level = expectedLevel(TDX);
  const [moduleId, moduleStatus] = ourCheck(TDX).tdx_module_identity ?? [];
  const [text, asJson] = await Promise.all([tdx([]), tdx(["--json"])]);

  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^Verdict {4}affirming$/m);
  assert.match(text.stdout, /\(TDX quote v4\)/);
  assert.ok(text.stdout.includes(expected.mr_td), "the text output names MRTD");
  assert.match(text.stdout, /^ {2}TCB status {5}UpToDate, TCB date /m);
  assert.match(text.stdout, new RegExp(`^ {2}TDX module {5}${moduleId} ${moduleStatus}$`, "m"));

  assert.equal(asJson.code, 0, asJson.stderr);
  const out = jsonOutput(asJson);
  assert.equal(out.status, "affirming");
  assert.deepEqual(out.reasons, []);
  assert.equal(out.form, "TDX quote v4");
  for (const code of [
    "dcap.chain.pck",
    "dcap.quote.signature",
    "dcap.collateral.signature",
    "dcap.crl.pck",
    "dcap.crl.root",
    "dcap.qe_identity.match",
    "dcap.tcb.level",
    "dcap.tdx_module.tcb",
    "dcap.policy.tcb_status",
  ]) {
    assert.equal(findCheck(out, code)?.status, "pass", code);
  }
  // Every check the JSON lists is a line of the text output.
  for (const c of out.checks) {
    assert.ok(
      text.stdout.split("\n").some((l) => l.includes(` ${c.code} `) && l.includes(c.message)),
      `the text output has the ${c.code} line`,
    );
  }

  const got = claims(out);
  assert.equal(got.platform, "tdx");
  assert.equal(got.measurement, expected.mr_td);
  assert.equal(got.mrSeam, expected.mr_seam);
  assert.equal(got.reportData, expected.report_data);
  assert.equal(level.status, "UpToDate");
  assert.equal(got.tcbStatus, "UpToDate", "Intel's own spelling");
  assert.deepEqual(got.advisoryIds, []);
  const tcb = got.tcb as Record<string, unknown>;
  assert.equal(tcb.moduleId, "TDX_01");
  assert.equal(tcb.moduleId, moduleId);
  assert.equal(tcb.moduleStatus, moduleStatus);
  assert.equal(tcb.qeStatus, ourCheck(TDX).qe?.qe_tcb_status);
  for (const rtmr of ["rtmr0", "rtmr1", "rtmr2", "rtmr3"] as const) {
    assert.equal(got[rtmr], expected[rtmr], rtmr);
  }
  assert.equal(got.fmspc, ourCheck(TDX).fmspc);
  assert.equal(got.fmspc, "b0c06f000000");
});

test("SGX dcap-qvl: ConfigurationAndSWHardeningNeeded is refused by default, and warns when a policy accepts it", async () => {
  const level = expectedLevel(SGX);
  assert.deepEqual(level, {
    status: "ConfigurationAndSWHardeningNeeded",
    advisoryIds: ["INTEL-SA-00289", "INTEL-SA-00615"],
  });
  const policy = await scratchFile(
    "sgx-hardening.json",
    JSON.stringify({
      platforms: ["sgx"],
      dcap: { tcbStatuses: ["UpToDate", "ConfigurationAndSWHardeningNeeded"] },
    }),
  );
  const [byDefault, accepted, acceptedText] = await Promise.all([
    sgx(["--json"]),
    sgx(["--json", "--policy", policy]),
    sgx(["--policy", policy]),
  ]);

  assert.equal(byDefault.code, 1);
  const refused = jsonOutput(byDefault);
  assert.equal(refused.form, "SGX quote v3");
  assert.equal(refused.status, "contraindicated");
  assert.deepEqual(reasonCodes(refused), ["dcap.policy.tcb_status"]);
  const message = refused.reasons[0]?.message ?? "";
  for (const word of [level.status, ...level.advisoryIds]) {
    assert.ok(message.includes(word), `the reason names ${word}: ${message}`);
  }
  // Authentic all the same: only the appraisal refused it.
  assert.equal(findCheck(refused, "dcap.quote.signature")?.status, "pass");
  assert.equal(claims(refused).tcbStatus, level.status);

  assert.equal(accepted.code, 1, "only affirming exits 0");
  const warned = jsonOutput(accepted);
  assert.equal(warned.status, "warning");
  assert.equal(findCheck(warned, "dcap.policy.tcb_status")?.status, "warn");
  assert.ok(warned.checks.every((c) => c.status !== "fail"));
  const got = claims(warned);
  assert.equal(got.platform, "sgx");
  assert.equal(got.measurement, parsed(SGX).mr_enclave);
  assert.equal(got.reportData, parsed(SGX).report_data);
  assert.equal(got.fmspc, ourCheck(SGX).fmspc);
  assert.equal(got.pckIssuer, "processor", "README: the Processor CA issued this PCK");
  assert.equal(got.tcbStatus, "ConfigurationAndSWHardeningNeeded");
  assert.deepEqual(got.advisoryIds, level.advisoryIds);

  assert.equal(acceptedText.code, 1);
  assert.match(acceptedText.stdout, /^Verdict {4}warning$/m);
  assert.match(acceptedText.stdout, /! warn {2}dcap\.policy\.tcb_status/);
  assert.match(
    acceptedText.stdout,
    /^ {2}TCB status {5}ConfigurationAndSWHardeningNeeded \(INTEL-SA-00289, INTEL-SA-00615\)/m,
  );
});

test("individual PCS files: go-tdx-guest's SPR quote has no matching TCB level, then expires", async () => {
  const tcbInfo = JSON.parse(await readFile(file(SPR, "tcb_info"), "utf8")) as {
    tcbInfo: { nextUpdate: string };
  };
  const [inWindow, later, farLater, quoteOnly] = await Promise.all([
    spr(sourceTime(SPR)),
    spr("2024-01-01T00:00:00Z"),
    spr("2053-07-01T01:00:00Z"),
    verify([file(SPR, "quote"), "--now", sourceTime(SPR), "--authenticity-only", "--json"]),
  ]);

  assert.equal(inWindow.code, 1);
  const unrated = jsonOutput(inWindow);
  assert.equal(unrated.status, "contraindicated");
  assert.deepEqual(reasonCodes(unrated), ["dcap.tcb.no_match"]);
  assert.match(unrated.reasons[0]?.message ?? "", /50806f000000/, "the reason names the FMSPC");
  // The signatures that held are listed before the collateral failure, and no claims pass on.
  const passed = unrated.checks.filter((c) => c.status === "pass").map((c) => c.code);
  for (const code of ["dcap.chain.pck", "dcap.qe_report.signature", "dcap.quote.signature"]) {
    assert.ok(passed.includes(code), `${code} passed before the TCB evaluation failed`);
  }
  assert.equal(unrated.checks.at(-1)?.code, "dcap.tcb.no_match");
  assert.equal(unrated.claims, undefined);
  // The quote itself is sound (README): without collateral it is authentic.
  assert.equal(quoteOnly.code, 0, quoteOnly.stderr);
  assert.equal(jsonOutput(quoteOnly).status, "authentic");
  assert.equal(findCheck(jsonOutput(quoteOnly), "dcap.quote.signature")?.status, "pass");
  assert.equal(claims(jsonOutput(quoteOnly)).measurement, vectorEntry(SPR).source_asserts?.mr_td);

  // Past the TCB info's nextUpdate (2023-07-18) and the QE identity's (2023-07-08).
  assert.equal(later.code, 1);
  const stale = jsonOutput(later);
  assert.equal(stale.status, "contraindicated");
  assert.deepEqual(reasonCodes(stale), ["dcap.tcb_info.expired"]);
  const due = new Date(tcbInfo.tcbInfo.nextUpdate).toISOString();
  assert.ok(stale.reasons[0]?.message.includes(due), `the reason names ${due}`);

  // Past the PCK certificate itself (valid until 2029-09-20).
  assert.equal(farLater.code, 1);
  assert.deepEqual(reasonCodes(jsonOutput(farLater)), ["dcap.certificate.expired"]);
  assert.match(jsonOutput(farLater).reasons[0]?.message ?? "", /PCK certificate expired/);
});

test("automata-gcp-v4 with its tcbinfo, qe_td and PCS certificates is OutOfDate", async () => {
  const level = expectedLevel(GCP);
  assert.equal(level.status, "OutOfDate");
  assert.deepEqual(level.advisoryIds, ["INTEL-SA-00960", "INTEL-SA-00982", "INTEL-SA-00986"]);
  const certs = file(GCP, "pcs_certs");
  const args = [
    file(GCP, "quote (derived)"),
    "--tcb-info",
    file(GCP, "tcb_info"),
    "--qe-identity",
    file(GCP, "qe_identity"),
    "--tcb-signing-chain",
    join(certs, "Intel_SGX_TCB_Signing_2025.der"),
    "--pck-crl",
    file(GCP, "pck_crl"),
    "--root-crl",
    join(certs, "Intel_SGX_Root_CA_crl_2025-03.der"),
    "--now",
    windowMiddle(GCP),
    "--json",
  ];
  const [byDefault, denied] = await Promise.all([
    verify(args),
    scratchFile(
      "deny-00982.json",
      JSON.stringify({
        platforms: ["tdx"],
        dcap: { tcbStatuses: ["UpToDate", "OutOfDate"], deniedAdvisoryIds: ["INTEL-SA-00982"] },
      }),
    ).then((p) => verify([...args, "--policy", p])),
  ]);

  assert.equal(byDefault.code, 1);
  const out = jsonOutput(byDefault);
  assert.equal(out.status, "contraindicated");
  assert.deepEqual(reasonCodes(out), ["dcap.policy.tcb_status"]);
  assert.equal(findCheck(out, "dcap.collateral.signature")?.status, "pass");
  assert.equal(findCheck(out, "dcap.crl.pck")?.status, "pass");
  const got = claims(out);
  assert.equal(got.measurement, parsed(GCP).mr_td);
  assert.equal(got.fmspc, ourCheck(GCP).fmspc);
  assert.equal(got.tcbStatus, "OutOfDate");
  assert.deepEqual(got.advisoryIds, level.advisoryIds);
  const tcb = got.tcb as Record<string, unknown>;
  assert.equal(tcb.qeStatus, ourCheck(GCP).qe?.qe_tcb_status);
  assert.equal(tcb.moduleId, ourCheck(GCP).tdx_module_identity?.[0]);

  // Accepting OutOfDate warns, but a denied advisory still refuses the platform.
  assert.equal(denied.code, 1);
  const refused = jsonOutput(denied);
  assert.equal(refused.status, "contraindicated");
  assert.deepEqual(reasonCodes(refused), ["dcap.policy.tcb_status", "dcap.policy.advisory"]);
  assert.equal(findCheck(refused, "dcap.policy.tcb_status")?.status, "warn");
  assert.match(refused.reasons[1]?.message ?? "", /INTEL-SA-00982/);
});

test("no collateral: the CCEL replays to RTMR0–2, and the TCB status is unknown", async () => {
  const expected = parsed(CCEL);
  const nonce = await readFile(file(CCEL, "nonce"));
  const [text, asJson, appraised] = await Promise.all([
    ccel(["--authenticity-only"]),
    ccel(["--authenticity-only", "--json"]),
    ccel(["--json"]),
  ]);

  assert.equal(asJson.code, 0, asJson.stderr);
  const out = jsonOutput(asJson);
  assert.equal(out.status, "authentic");
  assert.equal(findCheck(out, "dcap.tcb")?.status, "skip");
  const replays = out.checks.filter((c) => c.code === "tdx.event_log.rtmr_replay");
  assert.deepEqual(
    replays.map((c) => c.status),
    ["pass", "pass", "pass", "skip"],
    "RTMR0–2 replay; RTMR3 was never extended",
  );
  const got = claims(out);
  assert.equal(got.measurement, expected.mr_td);
  assert.equal(got.reportData, nonce.toString("hex"), "REPORTDATA is nonce.dat");
  for (const rtmr of ["rtmr0", "rtmr1", "rtmr2", "rtmr3"] as const) {
    assert.equal(got[rtmr], expected[rtmr], rtmr);
  }
  assert.equal(got.tcbStatus, undefined, "no collateral, no TCB status");
  const log = got.eventLog as { replayed: boolean; events: number; kernelCmdline?: string };
  assert.equal(log.replayed, true);
  assert.ok(log.events > 0);
  assert.equal(typeof log.kernelCmdline, "string");
  assert.ok((log.kernelCmdline ?? "").length > 0, "the log records a kernel command line");

  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^Verdict {4}authentic$/m);
  assert.ok(
    text.stdout.includes(`  event log      ${log.events} events, replayed to RTMR0–2\n`),
    text.stdout,
  );
  assert.ok(text.stdout.includes(`  kernel cmdline ${log.kernelCmdline}\n`));
  assert.match(text.stdout, /TCB status {5}not evaluated \(no Intel collateral\)/);

  assert.equal(appraised.code, 1);
  const unknown = jsonOutput(appraised);
  assert.equal(unknown.status, "contraindicated");
  assert.deepEqual(reasonCodes(unknown), ["dcap.policy.tcb_status"]);
  assert.match(unknown.reasons[0]?.message ?? "", /unknown/);
  assert.match(unknown.reasons[0]?.message ?? "", /--collateral or --fetch-collateral/);
});

test("a CCEL with one digest byte flipped does not replay to RTMR0", async () => {
  const data = new Uint8Array(await readFile(file(CCEL, "ccel_data")));
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // The log opens with the SHA-1-format Spec ID event (MR index, type, 20-byte digest, size,
  // data); the first crypto-agile event follows: MR index, type, digest count, algorithm ID,
  // then its SHA-384 digest.
  const first = 32 + view.getUint32(28, true);
  assert.equal(view.getUint32(first, true), 1, "the first event extends MR index 1 (RTMR0)");
  assert.equal(view.getUint16(first + 12, true), 0x000c, "its digest is SHA-384");
  const digest = first + 14;
  data[digest] = (data[digest] as number) ^ 0x01;
  const mutated = await scratchFile("ccel-flipped.dat", data);

  const result = await ccel(["--authenticity-only", "--json"], mutated);
  assert.equal(result.code, 1);
  const out = jsonOutput(result);
  assert.equal(out.status, "not authentic");
  assert.deepEqual(reasonCodes(out), ["tdx.event_log.rtmr_mismatch"]);
  assert.match(out.reasons[0]?.message ?? "", /^RTMR0 /);
  assert.equal(out.claims, undefined);
});

test("a quote with a body byte changed is not authentic: dcap.quote.signature", async () => {
  const quote = new Uint8Array(await readFile(file(TDX, "quote")));
  // go-tdx-guest's TestNegativeVerification: 0x3C := 0x32 breaks the quote signature.
  assert.notEqual(quote[0x3c], 0x32);
  quote[0x3c] = 0x32;
  const mutated = await scratchFile("tdx-quote-0x3c.bin", quote);
  const args = [mutated, "--collateral", file(TDX, "collateral"), "--now", sourceTime(TDX)];
  const [text, asJson, appraised] = await Promise.all([
    verify([...args, "--authenticity-only"]),
    verify([...args, "--authenticity-only", "--json"]),
    verify([...args, "--json"]),
  ]);

  assert.equal(text.code, 1);
  assert.match(text.stdout, /^Verdict {4}not authentic$/m);
  assert.equal(asJson.code, 1);
  const out = jsonOutput(asJson);
  assert.equal(out.status, "not authentic");
  assert.deepEqual(reasonCodes(out), ["dcap.quote.signature"]);
  assert.equal(out.claims, undefined);

  assert.equal(appraised.code, 1);
  assert.equal(jsonOutput(appraised).status, "contraindicated");
  assert.ok(reasonCodes(jsonOutput(appraised)).includes("dcap.quote.signature"));
  assert.equal(jsonOutput(appraised).claims, undefined);
});

/** dcap-qvl's collateral JSON (QuoteCollateralV3): the PCS answers, in pieces. */
interface QvlCollateral {
  tcb_info: string;
  tcb_info_signature: string;
  tcb_info_issuer_chain: string;
  qe_identity: string;
  qe_identity_signature: string;
  qe_identity_issuer_chain: string;
  pck_crl: string;
  pck_crl_issuer_chain: string;
  root_ca_crl: string;
}

/** A local PCCS serving the dcap-qvl-uptodate collateral; records every path it is asked for. */
async function fakePccs(): Promise<{ server: Server; url: string; seen: string[] }> {
  const qvl = JSON.parse(await readFile(file(TDX, "collateral"), "utf8")) as QvlCollateral;
  const fmspc = ourCheck(TDX).fmspc;
  // The PCS bodies, rebuilt around the signed inner objects verbatim.
  const routes = new Map<string, { body: string | Buffer; headers: Record<string, string> }>([
    [
      `/tdx/certification/v4/tcb?fmspc=${fmspc}`,
      {
        body: `{"tcbInfo":${qvl.tcb_info},"signature":"${qvl.tcb_info_signature}"}`,
        headers: {
          "content-type": "application/json",
          "TCB-Info-Issuer-Chain": encodeURIComponent(qvl.tcb_info_issuer_chain),
        },
      },
    ],
    [
      "/tdx/certification/v4/qe/identity",
      {
        body: `{"enclaveIdentity":${qvl.qe_identity},"signature":"${qvl.qe_identity_signature}"}`,
        headers: {
          "content-type": "application/json",
          "SGX-Enclave-Identity-Issuer-Chain": encodeURIComponent(qvl.qe_identity_issuer_chain),
        },
      },
    ],
    [
      "/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
      {
        body: Buffer.from(qvl.pck_crl, "hex"),
        headers: {
          "content-type": "application/pkix-crl",
          "SGX-PCK-CRL-Issuer-Chain": encodeURIComponent(qvl.pck_crl_issuer_chain),
        },
      },
    ],
    [
      "/sgx/certification/v4/rootcacrl",
      {
        body: Buffer.from(qvl.root_ca_crl, "hex"),
        headers: { "content-type": "application/pkix-crl" },
      },
    ],
  ]);
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? "";
    seen.push(path);
    const route = routes.get(path);
    if (route === undefined) {
      res.writeHead(404).end("Not Found");
    } else {
      res.writeHead(200, route.headers).end(route.body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, seen };
}

test("--fetch-collateral --pccs gets TCB info, QE identity and CRLs from a PCCS, then the cache", async () => {
  const pccs = await fakePccs();
  const cold = await mkdtemp(join(tmpdir(), "cloister-dcap-pccs-"));
  try {
    const fmspc = ourCheck(TDX).fmspc;
    assert.equal(fmspc, "b0c06f000000");
    const paths = [
      `/tdx/certification/v4/tcb?fmspc=${fmspc}`,
      "/tdx/certification/v4/qe/identity",
      "/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
      "/sgx/certification/v4/rootcacrl",
    ];
    const args = [
      file(TDX, "quote"),
      "--fetch-collateral",
      "--pccs",
      pccs.url,
      "--now",
      sourceTime(TDX),
      "--json",
    ];

    const first = await verify(args, { home: cold });
    assert.equal(first.code, 0, first.stderr);
    const out = jsonOutput(first);
    assert.equal(out.status, "affirming");
    assert.equal(claims(out).tcbStatus, "UpToDate");
    assert.equal(claims(out).measurement, parsed(TDX).mr_td);
    assert.deepEqual(pccs.seen, paths, "the PCCS was asked for each piece once, FMSPC included");
    for (const path of paths) {
      assert.ok(first.stderr.includes(`fetching ${pccs.url}${path}\n`), `stderr: ${first.stderr}`);
    }

    const second = await verify(args, { home: cold });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(claims(jsonOutput(second)).tcbStatus, "UpToDate");
    assert.equal(pccs.seen.length, paths.length, `served from the cache: ${pccs.seen.join(", ")}`);
    assert.doesNotMatch(second.stderr, /fetching/);

    const refreshed = await verify([...args, "--refresh-collateral"], { home: cold });
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.deepEqual(pccs.seen.slice(paths.length), paths, "--refresh-collateral asks again");
  } finally {
    pccs.server.close();
    await rm(cold, { recursive: true, force: true });
  }
});

test("`attest verify --help` documents the TDX/SGX flags", async () => {
  const { code, stdout, stderr } = await verify(["--help"]);
  assert.equal(code, 0, stderr);
  for (const flag of [
    "--collateral <file>",
    "--tcb-info <file>",
    "--qe-identity <file>",
    "--tcb-signing-chain <file>",
    "--pck-crl <file>",
    "--root-crl <file>",
    "--ccel <file>",
    "--ccel-table <file>",
    "--pccs <url>",
  ]) {
    assert.ok(stdout.includes(flag), `verify --help documents ${flag}`);
  }
});
