import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  attest,
  type Claims,
  type Collateral,
  DEFAULT_POLICY,
  type Evidence,
  encodeCertTable,
  type MinimumTcb,
  type Policy,
  type SnpPlatformClaims,
  sniffSnpEvidence,
  verifyEvidence,
} from "@cloister/core";
import { TESTVECTORS, vectorEntry } from "../../support/testvectors.js";

/**
 * Each way a report, its certificates or its policy can be wrong is refused with its own reason
 * code, and with nothing else failing: a caller (and `cloister attest`) can tell a tampered
 * report from an expired VCEK from a policy that wants a newer TCB. Every case starts from a real
 * vector that the golden policy affirms, changes one thing, and expects exactly one failed check.
 */

const read = (path: string) => new Uint8Array(readFileSync(`${TESTVECTORS}${path}`));
const text = (path: string) => readFileSync(`${TESTVECTORS}${path}`, "latin1");
const DAY = 24 * 60 * 60 * 1000;

/** The file of an entry under the first of these keys it has. */
function file(id: string, ...keys: string[]): string {
  const files = vectorEntry(`snp/${id}`).files;
  const key = keys.find((k) => files[k] !== undefined);
  assert.ok(key, `snp/${id} has one of ${keys.join(", ")}`);
  return files[key] as string;
}

const reportFile = (id: string) => file(id, "report", "report (derived)", "report_hex");
const signerFile = (id: string) => file(id, "vcek", "vcek (derived)", "vlek", "vcek_ask_ark");

interface Setup {
  readonly evidence: Evidence;
  readonly collateral: Collateral;
  readonly now: Date;
  readonly policy: Policy;
  readonly expectedReportData?: Uint8Array;
}

const snpOf = (claims: Claims) => claims.platformClaims as unknown as SnpPlatformClaims;

/** A policy pinning the vector's own values: measurement, chip, TCB, debug only if launched so. */
function goldenPolicy(claims: Claims): Policy {
  const snp = snpOf(claims);
  const { raw: _raw, ...minimumTcb } = snp.reportedTcb;
  return {
    platforms: ["sev-snp"],
    measurements: [claims.measurement],
    ...(claims.hardwareId === undefined ? {} : { hardwareIds: [claims.hardwareId] }),
    ...(snp.policy.debug ? { allowDebug: true } : {}),
    snp: { minimumTcb },
  };
}

/**
 * A vector's report with only its signing certificate as collateral (the ASK/ARK are pinned), at
 * a day into the signer's validity, under its golden policy. Azure Milan's HCL report is the
 * azure-snp-vtpm evidence with VCEK, ASK and ARK from vcek.pem.
 */
async function base(id: string): Promise<Setup> {
  const azure = id === "azure-vtpm-milan";
  const bytes = read(azure ? file(id, "hcl_report") : reportFile(id));
  const sniffed = sniffSnpEvidence(bytes);
  assert.ok(sniffed);
  const signer = new X509Certificate(read(signerFile(id)));
  const now = new Date(Date.parse(signer.validFrom) + DAY);
  const collateral = { certificates: azure ? text(signerFile(id)) : signer.raw };
  const verified = await verifyEvidence(sniffed.evidence, { now, collateral });
  assert.ok(verified.claims, `snp/${id} verifies before it is mutated`);
  return {
    evidence: sniffed.evidence,
    collateral,
    now,
    policy: goldenPolicy(verified.claims),
    expectedReportData: verified.claims.reportData,
  };
}

/** The setup with byte `at` of the evidence changed by `edit`. */
function patch(setup: Setup, at: number, edit: (byte: number) => number): Setup {
  const data = setup.evidence.data.slice();
  const before = data[at] as number;
  data[at] = edit(before) & 0xff;
  assert.notEqual(data[at], before, `the edit at 0x${at.toString(16)} changes the byte`);
  return { ...setup, evidence: { ...setup.evidence, data } };
}

const withSnp = (setup: Setup, snp: NonNullable<Policy["snp"]>): Setup => ({
  ...setup,
  policy: { ...setup.policy, snp: { ...setup.policy.snp, ...snp } },
});

async function claimsOf(setup: Setup): Promise<SnpPlatformClaims> {
  const verified = await verifyEvidence(setup.evidence, setup);
  assert.ok(verified.claims);
  return snpOf(verified.claims);
}

async function minimumTcbAbove(id: string, part: keyof MinimumTcb): Promise<Setup> {
  const setup = await base(id);
  const actual = (await claimsOf(setup)).reportedTcb[part];
  assert.ok(actual !== undefined && actual < 255, `${id} has a ${part} SPL below 255`);
  const minimumTcb = { ...setup.policy.snp?.minimumTcb, [part]: actual + 1 };
  return withSnp(setup, { minimumTcb });
}

const MILAN = "oak-milan-oc-release";
const VLEK = "trustee-milan-vlek-aws";
const GO = "go-sev-guest-milan";

interface Case {
  readonly name: string;
  readonly setup: () => Promise<Setup>;
  /** The one check that fails. */
  readonly code: string;
  /** Whether the evidence is still authentic (an appraisal failure) or not. */
  readonly authentic: boolean;
}

const tampered = (name: string, id: string, at: number, code = "snp.report.signature"): Case => ({
  name: `${id}: ${name} (byte 0x${at.toString(16)})`,
  setup: async () => patch(await base(id), at, (b) => b ^ 0x01),
  code,
  authentic: false,
});

const CASES: readonly Case[] = [
  // The signed bytes and the signature.
  tampered("R scalar byte flipped", MILAN, 0x2a0 + 17),
  tampered("R zero padding set", MILAN, 0x2d0, "snp.report.signature_encoding"),
  tampered("S scalar byte flipped", MILAN, 0x2e8 + 3),
  tampered("S zero padding set", MILAN, 0x318 + 23, "snp.report.signature_encoding"),
  tampered("measurement byte flipped", MILAN, 0x90 + 47),
  tampered("report_data byte flipped", MILAN, 0x50),
  tampered("chip ID byte flipped", MILAN, 0x1a0 + 63),
  tampered("host_data byte flipped", MILAN, 0xc0),
  tampered("CPUID stepping flipped", MILAN, 0x18a),
  tampered("Turin FMC SPL of REPORTED_TCB flipped", "oak-turin-oc", 0x180),
  ...(
    [
      ["version 6, a layout this parser does not know", 0x00, () => 6, "snp.report.version"],
      ["VMPL 4", 0x30, () => 4, "snp.report.vmpl"],
      ["SIGNATURE_ALGO 2", 0x34, () => 2, "snp.report.signature_algo"],
      ["POLICY reserved bit 17 cleared", 0x0a, (b: number) => b & ~0x02, "snp.report.policy"],
      ["KEY_INFO SIGNING_KEY 2 (undefined)", 0x48, () => 2 << 2, "snp.report.key_info"],
      ["KEY_INFO SIGNING_KEY 7 (none)", 0x48, () => 7 << 2, "snp.report.unsigned"],
      [
        "KEY_INFO SIGNING_KEY 1 (VLEK) with only the VCEK",
        0x48,
        () => 1 << 2,
        "snp.certificate.missing",
      ],
    ] as const
  ).map(
    ([name, at, edit, code]): Case => ({
      name: `${MILAN}: ${name}`,
      setup: async () => patch(await base(MILAN), at, edit),
      code,
      authentic: false,
    }),
  ),
  {
    name: `${MILAN}: one byte short of 1184`,
    setup: async () => {
      const setup = await base(MILAN);
      return { ...setup, evidence: { ...setup.evidence, data: setup.evidence.data.slice(0, -1) } };
    },
    code: "snp.report.length",
    authentic: false,
  },
  {
    name: `${MILAN}: REPORTED_TCB byte 0x180 += 1 (trustee verify_report_tcb)`,
    setup: async () => patch(await base(MILAN), 0x180, (b) => b + 1),
    code: "snp.report.signature",
    authentic: false,
  },
  {
    name: "virtee milan_report_invalid: byte 21 ^= 0x80",
    setup: async () => patch(await base("virtee-milan"), 21, (b) => b ^ 0x80),
    code: "snp.report.signature",
    authentic: false,
  },
  {
    name: "trustee: report byte 42 += 1",
    setup: async () => patch(await base("trustee-milan-vcek"), 42, (b) => b + 1),
    code: "snp.report.signature",
    authentic: false,
  },
  {
    name: `${VLEK}: VLEK-signed report byte flipped`,
    setup: async () => patch(await base(VLEK), 0x90, (b) => b ^ 0xff),
    code: "snp.report.signature",
    authentic: false,
  },

  // The certificates.
  {
    name: "no certificate supplied",
    setup: async () => ({ ...(await base(MILAN)), collateral: {} }),
    code: "snp.certificate.missing",
    authentic: false,
  },
  {
    name: "VLEK-signed report with only a VCEK",
    setup: async () => ({ ...(await base(VLEK)), collateral: (await base(MILAN)).collateral }),
    code: "snp.certificate.missing",
    authentic: false,
  },
  {
    name: "VCEK-signed report with only a VLEK",
    setup: async () => ({ ...(await base(MILAN)), collateral: (await base(VLEK)).collateral }),
    code: "snp.certificate.missing",
    authentic: false,
  },
  {
    name: "Milan report with Genoa's ASK and ARK (PEM)",
    setup: async () => {
      const setup = await base(MILAN);
      const vcek = new X509Certificate(read(signerFile(MILAN))).toString();
      const genoa = text("sev-snp/amd-roots/genoa_ask_ark.pem");
      return { ...setup, collateral: { certificates: `${vcek}\n${genoa}` } };
    },
    code: "snp.chain.wrong_product",
    authentic: false,
  },
  {
    name: "Milan report with Genoa's ASK and ARK (certificate table)",
    setup: async () => {
      const setup = await base(MILAN);
      const pems = text("sev-snp/amd-roots/genoa_ask_ark.pem").match(
        /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
      );
      assert.equal(pems?.length, 2, "genoa_ask_ark.pem holds the ASK then the ARK");
      const [ask, ark] = (pems ?? []).map((pem) => new Uint8Array(new X509Certificate(pem).raw));
      const table = encodeCertTable([
        { kind: "vcek", data: read(signerFile(MILAN)) },
        { kind: "ask", data: ask as Uint8Array },
        { kind: "ark", data: ark as Uint8Array },
      ]);
      return { ...setup, collateral: { cert_table: table } };
    },
    code: "snp.chain.wrong_product",
    authentic: false,
  },
  {
    name: "VCEK of another chip (oak-milan-rk-release's for oak-milan-oc-release's report)",
    setup: async () => ({
      ...(await base(MILAN)),
      collateral: { certificates: read(signerFile("oak-milan-rk-release")) },
    }),
    code: "snp.report.signature",
    authentic: false,
  },
  ...(["legacy", "new"] as const).map(
    (key): Case => ({
      name: `trustee-vcek-ext-encodings ${key}: patched hwID breaks the VCEK's signature`,
      setup: async () => ({
        ...(await base("trustee-milan-vcek")),
        collateral: { certificates: read(file("trustee-vcek-ext-encodings", key)) },
      }),
      code: "snp.chain.signer_signature",
      authentic: false,
    }),
  ),
  {
    name: "virtee milan_chain_invalid: VCEK DER byte 40 ^= 0xff",
    setup: async () => {
      const vcek = read(signerFile("virtee-milan"));
      vcek[40] = (vcek[40] as number) ^ 0xff;
      return { ...(await base("virtee-milan")), collateral: { certificates: vcek } };
    },
    code: "snp.chain.signer_signature",
    authentic: false,
  },
  {
    name: "trustee: VLEK DER byte 42 += 1",
    setup: async () => {
      const vlek = read(signerFile(VLEK));
      vlek[42] = ((vlek[42] as number) + 1) & 0xff;
      return { ...(await base(VLEK)), collateral: { certificates: vlek } };
    },
    code: "snp.chain.signer_signature",
    authentic: false,
  },
  {
    name: "VCEK expired (now = 2040)",
    setup: async () => ({ ...(await base(MILAN)), now: new Date("2040-01-01T00:00:00Z") }),
    code: "snp.certificate.expired",
    authentic: false,
  },
  {
    name: "VCEK not yet valid (now = 2000)",
    setup: async () => ({ ...(await base(MILAN)), now: new Date("2000-01-01T00:00:00Z") }),
    code: "snp.certificate.not_yet_valid",
    authentic: false,
  },
  {
    name: "AWS VLEK after its one-year window",
    setup: async () => ({ ...(await base(VLEK)), now: new Date("2025-12-11T00:00:00Z") }),
    code: "snp.certificate.expired",
    authentic: false,
  },
  {
    name: "dstack-milan verified before 2026-06-17, as index.json warns against",
    setup: async () => {
      assert.match(vectorEntry("snp/dstack-milan").verify_at, /do not verify before 2026-06-17/);
      return { ...(await base("dstack-milan")), now: new Date("2026-06-16T00:00:00Z") };
    },
    code: "snp.certificate.not_yet_valid",
    authentic: false,
  },

  // Azure, through full attest (trustee's az_snp_vtpm negatives).
  {
    name: "Azure HCL byte 0x1A6 := 0 (REPORTED_TCB SNP SPL of the embedded report)",
    setup: async () => patch(await base("azure-vtpm-milan"), 0x1a6, () => 0),
    code: "snp.report.signature",
    authentic: false,
  },
  {
    name: "Azure HCL byte 0x6E0 += 1 (runtime data no longer hashes to REPORT_DATA)",
    setup: async () => patch(await base("azure-vtpm-milan"), 0x6e0, (b) => b + 1),
    code: "azure.runtime_data.binding",
    authentic: false,
  },
  {
    name: "Azure HCL byte 0x540 := 0 (the runtime JSON holding the AK is broken)",
    setup: async () => patch(await base("azure-vtpm-milan"), 0x540, () => 0),
    code: "azure.runtime_data.malformed",
    authentic: false,
  },

  // Appraisal: authentic evidence that the policy refuses.
  {
    name: "a policy pinning a different measurement",
    setup: async () => {
      const setup = await base(MILAN);
      const other = (await base("oak-milan-cb")).policy.measurements ?? [];
      return { ...setup, policy: { ...setup.policy, measurements: other } };
    },
    code: "policy.measurement",
    authentic: true,
  },
  {
    name: "hardwareIds pinning another chip (oak-milan-rk-release's)",
    setup: async () => {
      const setup = await base(MILAN);
      const other = (await base("oak-milan-rk-release")).policy.hardwareIds ?? [];
      return { ...setup, policy: { ...setup.policy, hardwareIds: other } };
    },
    code: "policy.hardware_id",
    authentic: true,
  },
  {
    name: "hardwareIds pinned for a VLEK report, which carries no chip ID",
    setup: async () => {
      const setup = await base(VLEK);
      const other = (await base(MILAN)).policy.hardwareIds ?? [];
      return { ...setup, policy: { ...setup.policy, hardwareIds: other } };
    },
    code: "policy.hardware_id",
    authentic: true,
  },
  {
    name: "expectedReportData differing in its last byte",
    setup: async () => {
      const setup = await base(MILAN);
      const expected = (setup.expectedReportData as Uint8Array).slice();
      expected[63] = (expected[63] as number) ^ 0x01;
      return { ...setup, expectedReportData: expected };
    },
    code: "binding.report_data",
    authentic: true,
  },
  ...(["bootloader", "tee", "snp", "microcode"] as const).map(
    (part): Case => ({
      name: `Milan: minimumTcb.${part} one above the report's`,
      setup: () => minimumTcbAbove(MILAN, part),
      code: `snp.policy.min_tcb.${part}`,
      authentic: true,
    }),
  ),
  ...(["bootloader", "tee", "snp", "microcode", "fmc"] as const).map(
    (part): Case => ({
      name: `Turin: minimumTcb.${part} one above the report's`,
      setup: () => minimumTcbAbove("oak-turin-oc", part),
      code: `snp.policy.min_tcb.${part}`,
      authentic: true,
    }),
  ),
  {
    name: "hostData pinned to zero for dstack's report (non-zero host data)",
    setup: async () => withSnp(await base("dstack-milan"), { hostData: ["00".repeat(32)] }),
    code: "snp.policy.host_data",
    authentic: true,
  },
  {
    name: "vmpls [0] against the AWS VLEK report (VMPL 1)",
    setup: async () => withSnp(await base(VLEK), { vmpls: [0] }),
    code: "snp.policy.vmpl",
    authentic: true,
  },
  {
    name: 'signingKeys ["vcek"] against the AWS VLEK report',
    setup: async () => withSnp(await base(VLEK), { signingKeys: ["vcek"] }),
    code: "snp.policy.signing_key",
    authentic: true,
  },
  {
    name: 'minimumFirmware "1.50" against go-sev-guest (firmware 1.49)',
    setup: async () => withSnp(await base(GO), { minimumFirmware: "1.50" }),
    code: "snp.policy.min_firmware",
    authentic: true,
  },
  {
    name: "go-sev-guest (debug guest) under the default policy",
    setup: async () => {
      const { expectedReportData: _, ...setup } = await base(GO);
      return { ...setup, policy: DEFAULT_POLICY };
    },
    code: "policy.debug",
    authentic: true,
  },
  {
    name: "requireRevocationCheck without a CRL",
    setup: async () => withSnp(await base(MILAN), { requireRevocationCheck: true }),
    code: "snp.policy.revocation",
    authentic: true,
  },
  {
    name: "requireSmtDisabled on a host with SMT on",
    setup: async () => withSnp(await base(MILAN), { requireSmtDisabled: true }),
    code: "snp.policy.smt",
    authentic: true,
  },
  {
    name: 'products ["Genoa"] for a Milan report',
    setup: async () => withSnp(await base(MILAN), { products: ["Genoa"] }),
    code: "snp.policy.product",
    authentic: true,
  },
  {
    name: "minimumGuestSvn above the report's",
    setup: async () => {
      const setup = await base(MILAN);
      const svn = (await claimsOf(setup)).guestSvn;
      return withSnp(setup, { minimumGuestSvn: svn + 1 });
    },
    code: "snp.policy.guest_svn",
    authentic: true,
  },
  {
    name: "idKeyDigests pinned for a report launched without an ID block",
    setup: async () => withSnp(await base(MILAN), { idKeyDigests: ["ab".repeat(48)] }),
    code: "snp.policy.id_key_digest",
    authentic: true,
  },
  {
    name: "a policy that accepts TDX only",
    setup: async () => {
      const setup = await base(MILAN);
      return { ...setup, policy: { ...setup.policy, platforms: ["tdx"] } };
    },
    code: "policy.platform",
    authentic: true,
  },
];

async function run(setup: Setup) {
  return attest(setup.evidence, setup.policy, {
    now: setup.now,
    collateral: setup.collateral,
    ...(setup.expectedReportData === undefined
      ? {}
      : { expectedReportData: setup.expectedReportData }),
  });
}

describe("SEV-SNP: each mutation is refused with its own reason code", () => {
  test("every base vector is affirmed (or, debug allowed, warned) before it is mutated", async () => {
    for (const id of [MILAN, VLEK, GO, "oak-turin-oc", "dstack-milan", "azure-vtpm-milan"]) {
      const result = await run(await base(id));
      const failed = result.checks.filter((c) => c.status === "fail");
      assert.deepEqual(failed, [], id);
      assert.equal(result.verdict, id === GO ? "warning" : "affirming", id);
    }
  });

  for (const c of CASES) {
    test(`${c.name} -> ${c.code}`, async () => {
      const result = await run(await c.setup());
      const failed = result.checks.filter((check) => check.status === "fail");
      assert.deepEqual(
        failed.map((check) => check.code),
        [c.code],
        failed.map((check) => check.message).join("\n"),
      );
      assert.ok((failed[0]?.message.length ?? 0) > 10, "the failure says what is wrong");
      assert.equal(result.verdict, "contraindicated");
      assert.equal(result.claims !== undefined, c.authentic);
    });
  }

  test("Milan's ASVK and ARK supplied beside a VCEK play no part: the pinned ASK verifies it", async () => {
    // trustee checks a VCEK against the ASVK and expects failure; Cloister never builds the chain
    // from supplied certificates, so the same-product ASVK is screened and ignored.
    const setup = await base(MILAN);
    const vcek = new X509Certificate(read(signerFile(MILAN))).toString();
    const asvk = text("sev-snp/amd-roots/milan_asvk_ark.pem");
    const result = await run({ ...setup, collateral: { certificates: `${vcek}\n${asvk}` } });
    assert.deepEqual(
      result.checks.filter((check) => check.status === "fail"),
      [],
    );
    assert.equal(result.verdict, "affirming");
  });

  test("a minimum FMC on Milan, which has no FMC, is skipped rather than failed", async () => {
    const setup = withSnp(await base(MILAN), { minimumTcb: { fmc: 255 } });
    const result = await run(setup);
    const fmc = result.checks.find((check) => check.code === "snp.policy.min_tcb.fmc");
    assert.equal(fmc?.status, "skip");
    assert.equal(result.verdict, "affirming");
  });

  test("a byte of the reserved tail after S (0x330-0x49F) is not signed: still authentic", async () => {
    const setup = patch(await base(MILAN), 0x330 + 100, (b) => b ^ 0x55);
    const result = await run(setup);
    assert.equal(result.verdict, "affirming");
  });
});
