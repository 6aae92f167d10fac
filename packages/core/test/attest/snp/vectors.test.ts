import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { describe, test } from "node:test";
import {
  attest,
  type Claims,
  type Collateral,
  fromHex,
  type Policy,
  parseAzureEvidence,
  type SnpPlatformClaims,
  sniffSnpEvidence,
  toHex,
  utf8,
  verifyEvidence,
} from "@cloister/core";
import {
  TESTVECTORS,
  VECTOR_INDEX,
  type VectorEntry,
  vectorEntry,
} from "../../support/testvectors.js";

/**
 * Every SEV-SNP vector in testvectors/index.json, verified end to end: the evidence file is
 * recognised, its signature chains to the pinned AMD roots at a time the entry names, the claims
 * equal the values index.json records, and a policy pinning the vector's own golden values
 * affirms it. What an entry records drives what is asserted; nothing is hard-coded per vector.
 */

interface ParsedReport {
  version: number;
  policy?: string;
  vmpl?: number;
  reported_tcb: string;
  reported_tcb_parts?: Record<string, number>;
  cpuid?: string[];
  measurement: string;
  report_data: string;
  host_data?: string;
  chip_id?: string;
  key_info?: string;
}

const SNP = VECTOR_INDEX.filter((e) => e.tee?.startsWith("sev-snp") === true);
const read = (path: string) => new Uint8Array(readFileSync(`${TESTVECTORS}${path}`));
const DAY = 24 * 60 * 60 * 1000;

/** Files that hold evidence Cloister reads; Trustee's evidence_json is covered by its report.bin. */
const EVIDENCE_KEY = /^(report|report \(derived\)|report_hex|hcl_report|evidence|evidence_v\d)$/;
const isCertificate = (path: string) => /\.(der|pem)$/.test(path);

/** Every certificate in a DER file or a PEM file of several blocks. */
function certificatesIn(bytes: Uint8Array | string): X509Certificate[] {
  const text = typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("latin1");
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (blocks === null) return [new X509Certificate(Buffer.from(bytes as Uint8Array))];
  return blocks.map((block) => new X509Certificate(block));
}

/** The entry's certificate files as one PEM text: the "certificates" collateral. */
function certificatesOf(entry: VectorEntry): { pem: string; certificates: X509Certificate[] } {
  const certificates = Object.values(entry.files)
    .filter(isCertificate)
    .flatMap((path) => certificatesIn(read(path)));
  return { pem: certificates.map((c) => c.toString()).join("\n"), certificates };
}

const isSigner = (c: X509Certificate) => /^CN=SEV-(VCEK|VLEK)$/m.test(c.subject);

const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/g;

/**
 * The verification time an entry names: a time its source verified at, else the middle of the
 * validity window it quotes, else (the source did not check time) a day into the signer's
 * validity.
 */
function verifyAt(entry: VectorEntry, signer: X509Certificate | undefined): Date {
  const text = entry.verify_at;
  const windows = [...text.matchAll(new RegExp(`(${ISO.source})\\.\\.(${ISO.source})`, "g"))];
  const inWindows = new Set(windows.flatMap((w) => [w[1], w[2]]));
  const standalone = (text.match(ISO) ?? []).filter((t) => !inWindows.has(t));
  if (standalone[0] !== undefined) return new Date(standalone[0]);
  const window = windows[0];
  if (window !== undefined) {
    const from = Date.parse(window[1] as string);
    const to = Date.parse(window[2] as string);
    return new Date(from + (to - from) / 2);
  }
  assert.ok(signer, `${entry.id}: no time in verify_at and no signing certificate`);
  return new Date(Date.parse(signer.validFrom) + DAY);
}

/** index.json's parsed values for one evidence file (Azure Milan records them per file). */
function parsedFor(entry: VectorEntry, path: string): ParsedReport {
  const parsed = entry.parsed ?? {};
  if (typeof parsed.version === "number") return parsed as unknown as ParsedReport;
  const own = parsed[basename(path)] as ParsedReport | undefined;
  if (own !== undefined) return own;
  // evidence-v1.json carries evidence-v0's report re-signed; index.json records v0 only.
  assert.equal(basename(path), "evidence-v1.json", `${entry.id}: parsed values for ${path}`);
  return parsed["evidence-v0.json"] as ParsedReport;
}

/** The nonce an Azure source verified the quote against, by evidence file. */
function azureNonce(entry: VectorEntry, path: string): Uint8Array | undefined {
  const asserts = entry.source_asserts ?? {};
  const file = basename(path);
  if (file === "evidence-v0.json" || file === "evidence-v1.json") {
    assert.match(String(asserts["tpm nonce (extraData)"]), /"challenge"/);
    return utf8("challenge");
  }
  const hex =
    /report_data=([0-9a-f]+)/.exec(String(asserts["evidence-v2"]))?.[1] ??
    String(asserts["report_data passed to verifier"]);
  if (file === "evidence-v2.json" || file === "evidence-genoa.json") {
    const nonce = fromHex(hex);
    assert.ok(nonce, `${entry.id}: the source's nonce for ${file}`);
    return nonce;
  }
  return undefined;
}

const padded = (bytes: Uint8Array) => {
  const out = new Uint8Array(64);
  out.set(bytes);
  return out;
};
const isZero = (hex: string) => /^0*$/.test(hex);
const snpOf = (claims: Claims) => claims.platformClaims as unknown as SnpPlatformClaims;

/** index.json's names for the TCB parts -> the claim's. */
const TCB_PART: Record<string, "bootloader" | "tee" | "snp" | "microcode" | "fmc"> = {
  bl: "bootloader",
  tee: "tee",
  snp: "snp",
  ucode: "microcode",
  fmc: "fmc",
};

function assertParsedClaims(claims: Claims, parsed: ParsedReport, azure: boolean): void {
  const snp = snpOf(claims);
  assert.equal(claims.measurement, parsed.measurement);
  assert.equal(snp.reportData, parsed.report_data);
  // On Azure the claim's report data is the vTPM nonce; the report's own is the runtime hash.
  if (!azure) assert.equal(toHex(claims.reportData), parsed.report_data);
  assert.equal(snp.version, parsed.version);
  assert.equal(`0x${snp.reportedTcb.raw}`, parsed.reported_tcb);
  for (const [name, value] of Object.entries(parsed.reported_tcb_parts ?? {})) {
    const part = TCB_PART[name];
    assert.ok(part, `known TCB part ${name}`);
    assert.equal(snp.reportedTcb[part], value, `reported TCB ${name}`);
  }
  if (parsed.chip_id !== undefined) {
    assert.equal(snp.chipId, parsed.chip_id);
    assert.equal(claims.hardwareId, isZero(parsed.chip_id) ? undefined : parsed.chip_id);
  }
  if (parsed.host_data !== undefined) assert.equal(snp.hostData, parsed.host_data);
  if (parsed.vmpl !== undefined) assert.equal(snp.vmpl, parsed.vmpl);
  if (parsed.policy !== undefined)
    assert.equal(BigInt(`0x${snp.policy.raw}`), BigInt(parsed.policy));
  if (parsed.cpuid !== undefined) {
    const [family, model, stepping] = parsed.cpuid.map(Number);
    // Version 2 reports predate CPUID: the field is reserved (zero) and no claim is made.
    assert.deepEqual(snp.cpuid, parsed.version >= 3 ? { family, model, stepping } : undefined);
  }
  if (parsed.key_info !== undefined) {
    const signingKey = (Number(parsed.key_info) >> 2) & 7;
    assert.equal(snp.signingKey, signingKey === 1 ? "vlek" : "vcek");
  }
}

/** "ff*32" -> 32 bytes of ff as hex; a bare hex value as is. */
const expandHex = (text: string) => {
  const repeat = /^([0-9a-f]{2})\*(\d+)$/.exec(text);
  return repeat === null ? text : (repeat[1] as string).repeat(Number(repeat[2]));
};

/** The source's own golden values (go-sev-guest's check tool, dstack's README) where they have a form. */
function assertSourceAsserts(claims: Claims, asserts: Readonly<Record<string, unknown>>): number {
  const snp = snpOf(claims);
  const fields: Record<string, string> = {
    report_id: snp.reportId,
    report_id_ma: snp.reportIdMa,
    host_data: snp.hostData,
    family_id: snp.familyId,
    image_id: snp.imageId,
    chip_id: snp.chipId,
    measurement: claims.measurement,
  };
  let checked = 0;
  for (const [key, value] of Object.entries(asserts)) {
    const text = String(value);
    const hex = /^(?:non-zero \()?([0-9a-f]{2,}(?:\*\d+)?)\b/.exec(text)?.[1];
    if (key in fields && hex !== undefined) {
      assert.equal(fields[key], expandHex(hex), `source assert ${key}`);
      checked++;
    } else if (key in fields && text === "non-zero") {
      assert.ok(!isZero(fields[key] as string), `source assert ${key} non-zero`);
      checked++;
    } else if (key === "report_data" && /^ASCII "/.test(text)) {
      const ascii = /^ASCII "([^"]*)"/.exec(text)?.[1] as string;
      assert.deepEqual(claims.reportData, padded(utf8(ascii)));
      checked++;
    } else if (key === "report_data" && /^0102030405 followed by 59 zero bytes$/.test(text)) {
      assert.deepEqual(claims.reportData, padded(Uint8Array.of(1, 2, 3, 4, 5)));
      checked++;
    } else if (key === "vmpl" || key === "platform_info") {
      const actual = key === "vmpl" ? snp.vmpl : Number(BigInt(`0x${snp.platformInfo.raw}`));
      assert.equal(actual, Number(value), `source assert ${key}`);
      checked++;
    } else if (key === "firmware_version") {
      const [, major, minor, build] = /^(\d+)\.(\d+) \(build (\d+)\)$/.exec(text) ?? [];
      assert.equal(snp.firmware, `${major}.${minor}.${build}`);
      checked++;
    } else if (key === "product") {
      assert.equal(snp.productName, text.split(" ")[0]);
      checked++;
    } else if (key === "minimum_tcb") {
      const tcb = BigInt(text.split(" ")[0] as string);
      assert.ok(BigInt(`0x${snp.reportedTcb.raw}`) >= tcb, "REPORTED_TCB at the source's minimum");
      checked++;
    }
  }
  return checked;
}

/** A policy made of the vector's own golden values: the strictest one it should pass. */
function goldenPolicy(claims: Claims): Policy {
  const snp = snpOf(claims);
  const { raw: _, ...minimumTcb } = snp.reportedTcb;
  return {
    platforms: ["sev-snp"],
    measurements: [claims.measurement],
    ...(claims.hardwareId === undefined ? {} : { hardwareIds: [claims.hardwareId] }),
    // go-sev-guest's golden policy accepts its debug-enabled guest; nothing else needs it.
    ...(snp.policy.debug ? { allowDebug: true } : {}),
    snp: { minimumTcb, vmpls: [snp.vmpl], hostData: [snp.hostData] },
  };
}

interface Loaded {
  evidence: Parameters<typeof attest>[0];
  collateral: Collateral;
  now: Date;
}

/**
 * The evidence file as a user would hand it over: sniffed, with the entry's certificates as
 * collateral. Azure JSON envelopes carry their own VCEK (another chip than vcek.pem's, for Milan),
 * so they travel alone.
 */
function load(entry: VectorEntry, path: string): Loaded {
  const bytes = read(path);
  const sniffed = sniffSnpEvidence(bytes);
  assert.ok(sniffed, `${path} is recognised as SEV-SNP evidence`);
  const embedded =
    sniffed.evidence.format === "azure-snp-vtpm" ? parseAzureEvidence(bytes).vcek : undefined;
  const own = embedded === undefined ? certificatesOf(entry) : undefined;
  const signer = (embedded === undefined ? own?.certificates : certificatesIn(embedded))?.find(
    isSigner,
  );
  return {
    evidence: sniffed.evidence,
    collateral: {
      ...sniffed.collateral,
      ...(own === undefined ? {} : { certificates: own.pem }),
    },
    now: verifyAt(entry, signer),
  };
}

const skipped: string[] = [];

describe("SEV-SNP vectors from index.json", () => {
  for (const entry of SNP) {
    const evidenceFiles = Object.entries(entry.files).filter(([key]) => EVIDENCE_KEY.test(key));

    if (entry.id === "snp/trustee-vcek-ext-encodings") {
      test(`${entry.id}: each patched VCEK fails its ASK signature`, async () => {
        assert.match(entry.expected, /^NEGATIVE for signature/);
        // The VCEKs are real ones whose hwID was replaced: index.json names no report, so the
        // trustee Milan report (same product) is the one they are tried against.
        const report = vectorEntry("snp/trustee-milan-vcek").files.report;
        assert.ok(report);
        const sniffed = sniffSnpEvidence(read(report));
        assert.ok(sniffed);
        const ark = read(entry.files.ask_ark as string);
        for (const key of ["legacy", "new"]) {
          const vcek = certificatesIn(read(entry.files[key] as string))[0] as X509Certificate;
          const pem = `${vcek.toString()}\n${Buffer.from(ark).toString("latin1")}`;
          const now = new Date(Date.parse(vcek.validFrom) + DAY);
          const result = await attest(
            sniffed.evidence,
            { platforms: ["sev-snp"] },
            {
              now,
              collateral: { certificates: pem },
            },
          );
          const failed = result.checks.filter((c) => c.status === "fail").map((c) => c.code);
          assert.deepEqual(failed, ["snp.chain.signer_signature"], key);
          assert.equal(result.verdict, "contraindicated");
          assert.equal(result.claims, undefined);
        }
      });
      continue;
    }

    if (evidenceFiles.length === 0) {
      skipped.push(entry.id);
      continue;
    }

    for (const [key, path] of evidenceFiles) {
      test(`${entry.id} ${key}: authentic, claims as index.json records, golden policy affirms`, async () => {
        assert.equal(entry.expected, "valid");
        const { evidence, collateral, now } = load(entry, path);
        const azure = evidence.format === "azure-snp-vtpm";

        const verified = await verifyEvidence(evidence, { now, collateral });
        const failed = verified.checks.filter((c) => c.status === "fail");
        assert.deepEqual(failed, [], `${path} verifies at ${now.toISOString()}`);
        const claims = verified.claims;
        assert.ok(claims, "authentic evidence has claims");
        assert.equal(claims.platform, "sev-snp");
        assert.match(claims.trustAnchor.name, /^AMD ARK-(Milan|Genoa|Turin)$/);
        const parsed = parsedFor(entry, path);
        assertParsedClaims(claims, parsed, azure);

        const nonce = azure ? azureNonce(entry, path) : undefined;
        if (nonce !== undefined) assert.deepEqual(claims.reportData, padded(nonce));
        if (basename(path).match(/^evidence-v[01]\.json$/)) {
          assert.equal(Buffer.from(claims.reportData.subarray(0, 9)).toString(), "challenge");
        }
        if (entry.source_asserts !== undefined && !azure) {
          assert.ok(assertSourceAsserts(claims, entry.source_asserts) > 0);
        }

        // On Azure the nonce the quote carries; elsewhere the report's own REPORT_DATA.
        const expectedReportData =
          nonce === undefined ? (fromHex(parsed.report_data) as Uint8Array) : padded(nonce);
        const result = await attest(evidence, goldenPolicy(claims), {
          now,
          collateral,
          expectedReportData,
        });
        const notPassed = result.checks.filter((c) => c.status !== "pass" && c.status !== "skip");
        if (snpOf(claims).policy.debug) {
          // Debug allowed is still reported: the verdict is "warning", not "affirming".
          assert.deepEqual(
            notPassed.map((c) => `${c.code}:${c.status}`),
            ["policy.debug:warn"],
          );
          assert.equal(result.verdict, "warning");
        } else {
          assert.deepEqual(notPassed, []);
          assert.equal(result.verdict, "affirming");
        }
        const passed = result.checks.filter((c) => c.status === "pass").map((c) => c.code);
        for (const code of [
          "policy.measurement",
          "binding.report_data",
          "snp.policy.min_tcb.bootloader",
          "snp.policy.min_tcb.microcode",
          "snp.report.signature",
        ]) {
          assert.ok(passed.includes(code), `${code} passes`);
        }
        if (claims.hardwareId !== undefined) assert.ok(passed.includes("policy.hardware_id"));
        if (snpOf(claims).product === "Turin") assert.ok(passed.includes("snp.policy.min_tcb.fmc"));
      });
    }

    for (const [key, path] of Object.entries(entry.files)) {
      if (key !== "evidence_json" && key !== "wrapper") continue;
      test(`${entry.id} ${key}: a form Cloister does not read is not taken for a report`, () => {
        assert.equal(sniffSnpEvidence(read(path)), undefined);
      });
    }
  }

  test("the loop met every SEV-SNP entry; only the report-less Turin chain was skipped", () => {
    assert.ok(SNP.length >= 16, `index.json lists ${SNP.length} SEV-SNP entries`);
    assert.deepEqual(skipped, ["snp/virtee-turin-vcek"]);
  });

  test("Azure JSON envelopes are named as JSON whatever whitespace leads them", () => {
    for (const entry of SNP) {
      for (const [key, path] of Object.entries(entry.files)) {
        if (!EVIDENCE_KEY.test(key) || !path.endsWith(".json")) continue;
        assert.equal(sniffSnpEvidence(read(path))?.form, "Azure vTPM evidence (JSON)", path);
      }
    }
  });
});
