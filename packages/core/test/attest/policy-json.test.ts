import assert from "node:assert/strict";
import { test } from "node:test";
import { CloisterError, HARDWARE_PLATFORMS, parsePolicy } from "@cloister/core";

const invalid = (value: unknown, setting: string) =>
  assert.throws(
    () => parsePolicy(value),
    (error: unknown) =>
      error instanceof CloisterError &&
      error.code === "policy.invalid" &&
      error.message.includes(setting),
  );

test("a complete policy reads back as written, hex lower-cased", () => {
  const policy = parsePolicy({
    platforms: ["sev-snp"],
    measurements: ["ABCDEF01"],
    hardwareIds: ["00ff"],
    allowDebug: false,
    workload: { modelDigests: [`sha256:${"ab".repeat(32)}`] },
    snp: { minimumTcb: { bootloader: 3, microcode: 115 }, vmpls: [0], minimumFirmware: "1.55" },
  });
  assert.deepEqual(policy, {
    platforms: ["sev-snp"],
    measurements: ["abcdef01"],
    hardwareIds: ["00ff"],
    allowDebug: false,
    workload: { modelDigests: [`sha256:${"ab".repeat(32)}`] },
    snp: { minimumTcb: { bootloader: 3, microcode: 115 }, vmpls: [0], minimumFirmware: "1.55" },
  });
});

test("absent platforms mean the hardware platforms", () => {
  assert.deepEqual(parsePolicy({}).platforms, HARDWARE_PLATFORMS);
});

test("a misspelt or mistyped setting is refused by name, never dropped", () => {
  invalid([], "the policy");
  invalid({ measurement: ["ab"] }, "measurement");
  invalid({ platforms: "sev-snp" }, "platforms");
  invalid({ platforms: ["sev"] }, "platforms");
  invalid({ measurements: ["not hex"] }, "measurements");
  invalid({ hardwareIds: "00ff" }, "hardwareIds");
  invalid({ allowDebug: "yes" }, "allowDebug");
  invalid({ workload: { modelDigest: [] } }, "workload.modelDigest");
  invalid({ workload: { modelDigests: ["abc"] } }, "workload.modelDigests");
  invalid({ snp: { minimumTcbb: {} } }, "snp.minimumTcbb");
  invalid({ snp: { minimumTcb: { bootloader: 256 } } }, "snp.minimumTcb.bootloader");
  invalid({ snp: { minimumTcb: { ucode: 1 } } }, "snp.minimumTcb.ucode");
  invalid({ snp: { minimumFirmware: "1" } }, "snp.minimumFirmware");
  invalid({ snp: { vmpls: [4] } }, "snp.vmpls");
  invalid({ snp: { signingKeys: ["ark"] } }, "snp.signingKeys");
  invalid({ snp: { products: ["Naples"] } }, "snp.products");
  invalid({ snp: { allowMigrationAgent: 1 } }, "snp.allowMigrationAgent");
  invalid({ snp: { hostData: ["zz"] } }, "snp.hostData");
});
