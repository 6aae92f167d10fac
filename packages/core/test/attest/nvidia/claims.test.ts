import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseGpuEvidence, parseGpuEvidenceInput, verifyGpuEvidence } from "../../../src/index.js";
import { NOW, SAMPLE, vectorText } from "./support.js";

interface GoldenClaims {
  readonly arch: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly measurements: Readonly<Record<string, string>>;
  readonly uuid: string;
}

/**
 * trustee's golden claims for the nvtrust sample report, field by field. Two things differ in
 * form only: trustee printed the NVDEC0 and protected-PCIe status bytes as text (0x55 is "U"),
 * and its uuid came from the test harness, not the evidence.
 */
describe("claims of the nvtrust H100 sample", () => {
  it("match trustee's golden claims", async () => {
    const golden = JSON.parse(vectorText(SAMPLE, "expected_claims")) as GoldenClaims;
    const [input] = parseGpuEvidenceInput(vectorText(SAMPLE, "report_hex"));
    assert.ok(input);
    const evidence = parseGpuEvidence(input.evidence);
    const { claims } = await verifyGpuEvidence(evidence, vectorText(SAMPLE, "cert_chain"), {
      now: NOW,
      nonce: evidence.request.nonce,
    });
    assert.ok(claims);
    assert.equal(claims.architecture, golden.arch.toUpperCase());
    assert.deepEqual(
      Object.fromEntries(Object.entries(claims.measurements).map(([k, v]) => [k, v])),
      golden.measurements,
    );
    const config = golden.config;
    assert.equal(claims.driverVersion, config.driver_version);
    assert.equal(claims.vbiosVersion, config.vbios_version);
    assert.equal(claims.fwid, config.fwid);
    assert.deepEqual(
      Object.fromEntries((claims.measurementCount ?? []).map((n, i) => [String(i + 1), n])),
      config.measurement_count,
    );
    for (const key of ["chip_sku", "chip_sku_mod", "project", "project_sku"]) {
      assert.equal(claims.opaque.text[key], config[key], key);
    }
    for (const key of ["board_id", "cpr_info", "gpu_info", "project_sku_mod", "fwid"]) {
      assert.equal(claims.opaque.hex[key], config[key], key);
    }
    assert.equal(String.fromCharCode(claims.nvdec0Status?.raw ?? 0), config.nvdec0_status);
    assert.equal(
      String.fromCharCode(claims.protectedPcieStatus?.raw ?? 0),
      config.protected_pcie_status,
    );
    assert.equal(claims.nvdec0Status?.state, "disabled");
    // Every golden config key is accounted for above.
    const covered = new Set([
      "driver_version",
      "vbios_version",
      "fwid",
      "measurement_count",
      "chip_sku",
      "chip_sku_mod",
      "project",
      "project_sku",
      "board_id",
      "cpr_info",
      "gpu_info",
      "project_sku_mod",
      "nvdec0_status",
      "protected_pcie_status",
    ]);
    assert.deepEqual(
      Object.keys(config).filter((k) => !covered.has(k)),
      [],
    );
    // Identity from the signing certificate, which the golden file does not carry.
    assert.equal(claims.serial, "53C22BA15E5D68088282DA074ED9FB37AA585771");
    assert.equal(claims.ueid, "NVIDIA:GH100:48B02D92494BADF4");
    assert.equal(claims.ccMode, "not-reported");
    assert.equal(claims.revocation, "unknown");
    // NVIDIA reports every block as a SHA-384 digest of mutable firmware.
    assert.ok(claims.blocks.every((b) => b.kind === "mutable-firmware" && !b.raw));
    assert.ok(claims.blocks.every((b) => b.value.length === 48));
  });
});
