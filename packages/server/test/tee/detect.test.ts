import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { describeTeeInterfaces, detect, SIMULATED_ROOT_FILES } from "../../src/tee/index.js";
import { fakeTsm } from "./fake-tsm.js";
import { tempDir } from "./temp.js";

const MEASUREMENT = "cd".repeat(48);

/** Paths under a bare temp directory: nothing exists there, as on a machine without a TEE. */
async function bare() {
  const dir = await tempDir();
  return {
    dir,
    configfsRoot: join(dir, "sys/kernel/config/tsm/report"),
    gramineRoot: join(dir, "dev/attestation"),
    configDir: join(dir, "config"),
  };
}

test("with no TEE interface, detect() picks the simulated TEE and says why", async () => {
  const paths = await bare();
  const report = await describeTeeInterfaces(paths);
  assert.equal(report.configfsTsm.present, false);
  assert.equal(report.gramine.present, false);
  assert.equal(report.simulated.rootExists, false);
  assert.equal(report.simulated.pemPath, join(paths.configDir, SIMULATED_ROOT_FILES.pem));
  assert.deepEqual(
    report.paths.map((p) => p.path),
    [
      "/sys/kernel/config",
      "/dev/sev-guest",
      "/dev/tdx_guest",
      "/dev/sgx_enclave",
      "/sys/firmware/acpi/tables/CCEL",
    ],
  );
  assert.equal(report.choice.interface, "simulated");
  assert.match(report.choice.reason, /INSECURE/);
  // Describing never creates a simulated root.
  await assert.rejects(readdir(paths.configDir), { code: "ENOENT" });

  const provider = await detect({ ...paths, measurement: MEASUREMENT });
  assert.equal(provider.platform, "simulated");
  assert.match(provider.description, /INSECURE/);
  assert.ok((await readdir(paths.configDir)).includes(SIMULATED_ROOT_FILES.pem));
  assert.equal((await describeTeeInterfaces(paths)).simulated.rootExists, true);
});

test("with a configfs-tsm tree, detect() picks it", async () => {
  const paths = await bare();
  const kernel = await fakeTsm(paths.configfsRoot, {
    provider: "tdx_guest",
    outblob: new Uint8Array([1, 2, 3]),
  });
  const options = { ...paths, configfsFiles: kernel.files };
  const report = await describeTeeInterfaces(options);
  assert.equal(report.configfsTsm.present, true);
  assert.equal(report.configfsTsm.writable, true);
  assert.equal(report.configfsTsm.tsmProvider, "tdx_guest");
  assert.equal(report.configfsTsm.platform, "tdx");
  assert.deepEqual(report.choice, {
    interface: "configfs-tsm",
    platform: "tdx",
    reason: `configfs-tsm at ${paths.configfsRoot} offers tdx_guest evidence.`,
  });
  const provider = await detect({ ...options, measurement: MEASUREMENT });
  assert.equal(provider.platform, "tdx");
  assert.deepEqual(
    (await provider.getEvidence(new Uint8Array(64))).evidence.data,
    new Uint8Array([1, 2, 3]),
  );
  await assert.rejects(readdir(paths.configDir), { code: "ENOENT" });
});

test("prefer: simulated wins over hardware", async () => {
  const paths = await bare();
  const kernel = await fakeTsm(paths.configfsRoot, {
    provider: "sev_guest",
    outblob: new Uint8Array([1]),
  });
  const options = { ...paths, configfsFiles: kernel.files, prefer: "simulated" as const };
  assert.equal((await detect({ ...options, measurement: MEASUREMENT })).platform, "simulated");
  const report = await describeTeeInterfaces(options);
  assert.equal(report.configfsTsm.tsmProvider, "sev_guest");
  assert.equal(report.choice.interface, "simulated");
});

test("an unusable configfs-tsm falls back to the simulated TEE with the problem reported", async () => {
  const paths = await bare();
  const kernel = await fakeTsm(paths.configfsRoot, {
    provider: "sev_guest",
    outblob: new Uint8Array([1]),
    mkdirErrno: "ENXIO",
  });
  const options = { ...paths, configfsFiles: kernel.files };
  const report = await describeTeeInterfaces(options);
  assert.equal(report.configfsTsm.present, true);
  assert.match(report.configfsTsm.problem ?? "", /no TSM provider/);
  assert.equal(report.choice.interface, "simulated");
  assert.match(report.choice.reason, /no TSM provider/);
  assert.equal((await detect({ ...options, measurement: MEASUREMENT })).platform, "simulated");
});

test("Gramine's /dev/attestation is picked when it offers DCAP, and explained when not", async () => {
  const paths = await bare();
  await mkdir(paths.gramineRoot, { recursive: true });
  await writeFile(join(paths.gramineRoot, "attestation_type"), "none\n");
  let report = await describeTeeInterfaces(paths);
  assert.equal(report.gramine.attestationType, "none");
  assert.match(report.gramine.problem ?? "", /needs "dcap"/);
  assert.equal(report.choice.interface, "simulated");

  await writeFile(join(paths.gramineRoot, "attestation_type"), "dcap\n");
  report = await describeTeeInterfaces(paths);
  assert.equal(report.gramine.attestationType, "dcap");
  assert.equal(report.gramine.problem, undefined);
  assert.equal(report.choice.interface, "gramine");
  assert.equal((await detect({ ...paths, measurement: MEASUREMENT })).platform, "sgx");
});
