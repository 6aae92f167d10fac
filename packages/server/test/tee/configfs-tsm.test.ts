import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import {
  CCA_COLLATERAL,
  CCA_TOKEN_FORMAT,
  DCAP_COLLATERAL,
  encodeCertTable,
  fromHex,
  SNP_COLLATERAL,
  SNP_REPORT_FORMAT,
  TDX_QUOTE_FORMAT,
  toHex,
  verifyEvidence,
} from "@cloister/core";
import { configfsTsmProvider, TeeError } from "../../src/tee/index.js";
import { fakeTsm } from "./fake-tsm.js";
import { tempDir } from "./temp.js";
import { vector } from "./vectors.js";

const REPORT_DATA = Uint8Array.from({ length: 64 }, (_, i) => 255 - i);

async function root(): Promise<string> {
  return join(await tempDir(), "sys", "kernel", "config", "tsm", "report");
}

test("SEV-SNP: a real report and certificate table come back and verify to the AMD root", {}, async () => {
  const report = await vector("sev-snp/oak-genoa-oc/report.bin");
  const vcek = await vector("sev-snp/oak-genoa-oc/vcek.der");
  const [ask, ark] = pemCertificates(await vector("sev-snp/amd-roots/genoa_ask_ark.pem"));
  assert.ok(ask !== undefined && ark !== undefined);
  // What the host hands the guest in auxblob: the GHCB certificate table with VCEK, ASK and ARK.
  const certTable = encodeCertTable([
    { kind: "vcek", data: vcek },
    { kind: "ask", data: ask },
    { kind: "ark", data: ark },
  ]);
  // The fake kernel returns a fixed report; asking for its own report data keeps the picture true.
  const reportData = report.slice(0x50, 0x90);
  const dir = await root();
  const kernel = await fakeTsm(dir, { provider: "sev_guest", outblob: report, auxblob: certTable });
  const provider = await configfsTsmProvider({ root: dir, files: kernel.files });
  assert.equal(provider.platform, "sev-snp");
  assert.equal(provider.tsmProvider, "sev_guest");
  assert.match(provider.description, /configfs-tsm \(sev_guest\)/);
  const { evidence, collateral } = await provider.getEvidence(reportData);
  assert.equal(evidence.platform, "sev-snp");
  assert.equal(evidence.format, SNP_REPORT_FORMAT);
  assert.deepEqual(evidence.data, report);
  assert.deepEqual(collateral, { [SNP_COLLATERAL.certTable]: certTable });
  assert.deepEqual(kernel.inblobs, [reportData]);
  // The probe entry and the request entry are both gone.
  assert.equal(kernel.mkdirs, 2);
  assert.deepEqual(await readdir(dir), []);
  // What a client does with it: no certificate besides the host's table is needed.
  const verified = await verifyEvidence(evidence, {
    now: new Date("2025-09-12T00:00:00Z"),
    collateral,
  });
  assert.ok(verified.claims, JSON.stringify(verified.checks));
  assert.equal(verified.claims.measurement, toHex(report.subarray(0x90, 0xc0)));
  assert.deepEqual(verified.claims.reportData, reportData);
  assert.equal(verified.claims.trustAnchor.name, "AMD ARK-Genoa");
});

test("SEV-SNP without certificates from the host hands on no collateral", {}, async () => {
  const dir = await root();
  const report = await vector("sev-snp/go-sev-guest-milan/attestation.bin");
  const kernel = await fakeTsm(dir, {
    provider: "sev_guest",
    outblob: report,
    auxblob: new Uint8Array(),
  });
  const provider = await configfsTsmProvider({ root: dir, files: kernel.files });
  assert.deepEqual((await provider.getEvidence(REPORT_DATA)).collateral, {});
});

test("TDX: a real quote comes back byte for byte", async () => {
  const quote = await vector("tdx/trustee/tdx_quote_4.dat");
  const dir = await root();
  const kernel = await fakeTsm(dir, { provider: "tdx_guest", outblob: quote });
  // A machine whose firmware publishes no CCEL table.
  const acpiTables = join(await tempDir(), "acpi", "tables");
  const provider = await configfsTsmProvider({ root: dir, files: kernel.files, acpiTables });
  const { evidence, collateral } = await provider.getEvidence(REPORT_DATA);
  assert.equal(evidence.platform, "tdx");
  assert.equal(evidence.format, "tdx-quote");
  assert.deepEqual(evidence.data, quote);
  // REPORTDATA sits at 48 (header) + 520 in a v4 quote; index.json records its value.
  const expected = fromHex(
    "7c71fe2c86eff65a7cf8dbc22b3275689fd0464a267baced1bf94fc1324656aeb755da3d44d098c0c87382f3a5f85b45c8a28fee1d3bdb38342bf96671501429",
  );
  assert.deepEqual(evidence.data.subarray(568, 632), expected);
  assert.deepEqual(collateral, {});
});

test("TDX: the CCEL event log from the ACPI tables travels with every quote", async () => {
  const quote = await vector("tdx/go-tdx-guest-gcp-ccel/cos-113-tdx-quote.dat");
  const table = await vector("tdx/go-tdx-guest-gcp-ccel/ccel_table.dat");
  const data = await vector("tdx/go-tdx-guest-gcp-ccel/ccel_data.dat");
  // Laid out as Linux shows them: /sys/firmware/acpi/tables/CCEL and .../tables/data/CCEL.
  const acpiTables = join(await tempDir(), "sys", "firmware", "acpi", "tables");
  await mkdir(join(acpiTables, "data"), { recursive: true });
  await writeFile(join(acpiTables, "CCEL"), table);
  await writeFile(join(acpiTables, "data", "CCEL"), data);
  const dir = await root();
  const kernel = await fakeTsm(dir, { provider: "tdx_guest", outblob: quote });
  const provider = await configfsTsmProvider({ root: dir, files: kernel.files, acpiTables });
  for (let i = 0; i < 2; i++) {
    const { evidence, collateral } = await provider.getEvidence(REPORT_DATA);
    assert.equal(evidence.format, TDX_QUOTE_FORMAT);
    assert.deepEqual(collateral, {
      [DCAP_COLLATERAL.ccelTable]: table,
      [DCAP_COLLATERAL.ccelData]: data,
    });
  }
});

test("CCA: a real token comes back byte for byte and verifies to its platform key", async () => {
  const token = await vector("cca/tf-rmm-fvp/cca-token-01.cbor");
  const cpak = await vector("cca/tf-rmm-fvp/cca_platform.pub");
  const dir = await root();
  const kernel = await fakeTsm(dir, { provider: "arm_cca_guest", outblob: token });
  const provider = await configfsTsmProvider({ root: dir, files: kernel.files });
  const { evidence } = await provider.getEvidence(REPORT_DATA);
  assert.equal(evidence.platform, "cca");
  assert.equal(evidence.format, CCA_TOKEN_FORMAT);
  assert.deepEqual(evidence.data, token);
  assert.deepEqual(kernel.inblobs, [REPORT_DATA]);
  // What a relying party does with it, given the platform's CPAK.
  const verified = await verifyEvidence(evidence, {
    now: new Date(),
    collateral: { [CCA_COLLATERAL.platformKeys]: new TextDecoder().decode(cpak) },
  });
  assert.ok(verified.claims, JSON.stringify(verified.checks));
  // The fake kernel returns a fixed token made over 64 × 0xab, not over this request's data.
  assert.deepEqual(verified.claims.reportData, new Uint8Array(64).fill(0xab));
});

test("a privlevel is written after the report data", async () => {
  const dir = await root();
  const kernel = await fakeTsm(dir, { provider: "sev_guest", outblob: new Uint8Array([1]) });
  const provider = await configfsTsmProvider({ root: dir, files: kernel.files, privlevel: 2 });
  await provider.getEvidence(REPORT_DATA);
  assert.deepEqual(kernel.privlevels, ["2"]);
  await assert.rejects(configfsTsmProvider({ root: dir, files: kernel.files, privlevel: 4 }), {
    code: "tee.configfs_privlevel",
  });
});

test("a concurrent writer is detected by the generation and the request is retried", async () => {
  const dir = await root();
  const kernel = await fakeTsm(dir, {
    provider: "tdx_guest",
    outblob: new Uint8Array([7, 7, 7]),
    disturb: 2,
  });
  const provider = await configfsTsmProvider({ root: dir, files: kernel.files });
  const { evidence } = await provider.getEvidence(REPORT_DATA);
  assert.deepEqual(evidence.data, new Uint8Array([7, 7, 7]));
  assert.equal(kernel.inblobs.length, 3);
  assert.deepEqual(await readdir(dir), []);
});

test("a writer that interferes every time ends in a typed error", async () => {
  const dir = await root();
  const kernel = await fakeTsm(dir, {
    provider: "tdx_guest",
    outblob: new Uint8Array([1]),
    disturb: Number.POSITIVE_INFINITY,
  });
  const provider = await configfsTsmProvider({ root: dir, files: kernel.files });
  await assert.rejects(provider.getEvidence(REPORT_DATA), (error) => {
    assert.ok(error instanceof TeeError);
    assert.equal(error.code, "tee.configfs_generation");
    return true;
  });
  assert.equal(kernel.inblobs.length, 3);
  assert.deepEqual(await readdir(dir), []);
});

test("an unknown TSM provider is refused", async () => {
  const dir = await root();
  const kernel = await fakeTsm(dir, { provider: "future_guest", outblob: new Uint8Array([1]) });
  await assert.rejects(configfsTsmProvider({ root: dir, files: kernel.files }), (error) => {
    assert.ok(error instanceof TeeError);
    assert.equal(error.code, "tee.configfs_provider_unknown");
    assert.match(error.message, /"future_guest"/);
    return true;
  });
  assert.deepEqual(await readdir(dir), []);
});

test("no registered TSM, a missing directory and a bad length are typed errors", async () => {
  const dir = await root();
  const none = await fakeTsm(dir, {
    provider: "sev_guest",
    outblob: new Uint8Array([1]),
    mkdirErrno: "ENXIO",
  });
  await assert.rejects(configfsTsmProvider({ root: dir, files: none.files }), {
    code: "tee.configfs_no_provider",
  });
  await assert.rejects(configfsTsmProvider({ root: join(dir, "absent") }), {
    code: "tee.configfs_unavailable",
  });
  const kernel = await fakeTsm(dir, { provider: "sev_guest", outblob: new Uint8Array([1]) });
  const provider = await configfsTsmProvider({ root: dir, files: kernel.files });
  await assert.rejects(provider.getEvidence(new Uint8Array(32)), { code: "tee.report_data" });
  assert.equal(kernel.inblobs.length, 0);
});

test("an entry the kernel does not fill is a typed error naming the attribute", async () => {
  // With the real file system, mkdir in a plain directory makes an empty entry.
  const dir = await root();
  await mkdir(dir, { recursive: true });
  await assert.rejects(configfsTsmProvider({ root: dir }), (error) => {
    assert.ok(error instanceof TeeError);
    assert.equal(error.code, "tee.configfs_io");
    assert.match(error.message, /provider failed \(ENOENT\)/);
    return true;
  });
  assert.deepEqual(await readdir(dir), []);
});

test("concurrent requests each use their own entry", async () => {
  const dir = await root();
  const kernel = await fakeTsm(dir, { provider: "sev_guest", outblob: new Uint8Array([9]) });
  const provider = await configfsTsmProvider({ root: dir, files: kernel.files });
  const inputs = [1, 2, 3, 4, 5].map((n) => new Uint8Array(64).fill(n));
  await Promise.all(inputs.map((d) => provider.getEvidence(d)));
  assert.equal(kernel.inblobs.length, 5);
  assert.equal(kernel.mkdirs, 6);
  assert.deepEqual(await readdir(dir), []);
});

/** The DER of each certificate in a PEM file (the AMD files hold the ASK, then the ARK). */
function pemCertificates(pem: Uint8Array): Uint8Array[] {
  const text = new TextDecoder().decode(pem);
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)].map(
    (m) => new Uint8Array(new X509Certificate(m[0]).raw),
  );
}

test("TDX: an event log only root may read leaves the quote to travel alone", async () => {
  const quote = await vector("tdx/go-tdx-guest-gcp-ccel/cos-113-tdx-quote.dat");
  const acpiTables = join(await tempDir(), "acpi", "tables");
  await mkdir(join(acpiTables, "data"), { recursive: true });
  await writeFile(join(acpiTables, "CCEL"), new Uint8Array(56));
  await writeFile(join(acpiTables, "data", "CCEL"), new Uint8Array(16));
  await chmod(join(acpiTables, "data", "CCEL"), 0o000);
  const dir = await root();
  const kernel = await fakeTsm(dir, { provider: "tdx_guest", outblob: quote });
  const provider = await configfsTsmProvider({ root: dir, files: kernel.files, acpiTables });
  const unreadable = await readFile(join(acpiTables, "data", "CCEL")).then(
    () => false,
    () => true,
  );
  const { collateral } = await provider.getEvidence(REPORT_DATA);
  // As root the file stays readable whatever its mode; then the log does travel.
  assert.equal(Object.keys(collateral).length === 0, unreadable);
});
