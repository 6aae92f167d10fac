import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  type AzureEvidence,
  checkAzureNonce,
  isAzureEvidence,
  parseAzureEvidence,
  parseHclReport,
  parseRuntimeData,
  parseTpmQuote,
  verifyAzureBinding,
  verifyTpmQuote,
} from "../../../src/attest/snp/azure/index.js";
import { VerificationError } from "../../../src/attest/verifier.js";
import { asBufferSource, concat, fromHex, toHex, utf8 } from "../../../src/bytes.js";
import { CloisterError, ParseError } from "../../../src/errors.js";
import { TESTVECTORS, type VectorEntry, vectorEntry } from "../../support/testvectors.js";

const MILAN = vectorEntry("snp/azure-vtpm-milan");
const GENOA = vectorEntry("snp/azure-vtpm-genoa");
const read = (path: string) => new Uint8Array(readFileSync(`${TESTVECTORS}${path}`));

/** Evidence files: the HCL report and every evidence envelope (not the certificates). */
const evidenceFiles = (e: VectorEntry) =>
  Object.entries(e.files)
    .filter(([key]) => key === "hcl_report" || key.startsWith("evidence"))
    .map(([, path]) => path);

interface ParsedValues {
  version: number;
  reported_tcb: string;
  measurement: string;
  report_data: string;
  chip_id?: string;
}

/** The `parsed` values index.json records for a file (Genoa has one evidence file, unkeyed). */
function parsedFor(e: VectorEntry, path: string): ParsedValues | undefined {
  const parsed = e.parsed as Record<string, unknown>;
  if (typeof parsed.version === "number") return parsed as unknown as ParsedValues;
  return parsed[basename(path)] as ParsedValues | undefined;
}

const reportDataOf = (ev: AzureEvidence) => ev.hcl.reportBytes.slice(0x50, 0x90);

function reportFields(report: Uint8Array) {
  const view = new DataView(report.buffer, report.byteOffset, report.byteLength);
  return {
    version: view.getUint32(0, true),
    report_data: toHex(report.subarray(0x50, 0x90)),
    measurement: toHex(report.subarray(0x90, 0xc0)),
    reported_tcb: `0x${view.getBigUint64(0x180, true).toString(16).padStart(16, "0")}`,
    chip_id: toHex(report.subarray(0x1a0, 0x1e0)),
  };
}

const hexAfter = (text: string | undefined, label: string): string => {
  const match = new RegExp(`${label}=([0-9a-f]+)`).exec(text ?? "");
  assert.ok(match, `source_asserts has ${label}`);
  return match[1] as string;
};

/** The Azure entries' source_asserts: prose, one string per assertion. */
type SourceAsserts = Readonly<Record<string, string>>;

/** What the sources assert for each evidence file: the quote nonce and PCR 0. */
const SOURCE: Record<string, { nonce: Uint8Array; pcr0: string }> = (() => {
  const milan = (MILAN.source_asserts ?? {}) as SourceAsserts;
  assert.match(milan["tpm nonce (extraData)"] ?? "", /"challenge"/);
  const v01 = { nonce: utf8("challenge"), pcr0: hexAfter(milan["evidence-v0/v1 claims"], "pcr00") };
  const genoa = (GENOA.source_asserts ?? {}) as SourceAsserts;
  return {
    "evidence-v0.json": v01,
    "evidence-v1.json": v01,
    "evidence-v2.json": {
      nonce: fromHex(hexAfter(milan["evidence-v2"], "report_data")) as Uint8Array,
      pcr0: hexAfter(milan["evidence-v2"], "pcr00"),
    },
    "evidence-genoa.json": {
      nonce: fromHex(genoa["report_data passed to verifier"] ?? "") as Uint8Array,
      pcr0: genoa["tpm pcr00"] ?? "",
    },
  };
})();

const milanHcl = read(MILAN.files.hcl_report as string);
const quoteV1 = JSON.parse(readFileSync(`${TESTVECTORS}${MILAN.files.tpm_quote}`, "utf8")) as {
  signature: string;
  message: string;
  pcrs: string[];
};

/** hcl-report.bin with its companion quote, in the {hcl_report, tpm_quote} envelope. */
function envelope(hcl: Uint8Array, quote = quoteV1): Uint8Array {
  const json = { version: 1, tpm_quote: quote, hcl_report: Buffer.from(hcl).toString("base64") };
  return utf8(JSON.stringify(json));
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof VerificationError, `expected a VerificationError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

describe("Azure vTPM evidence: every index.json vector", () => {
  for (const e of [MILAN, GENOA]) {
    for (const path of evidenceFiles(e)) {
      test(`${path} parses and its runtime data, quote and PCRs bind`, async () => {
        const bytes = read(path);
        assert.ok(isAzureEvidence(bytes));
        const ev = parseAzureEvidence(bytes);
        assert.equal(ev.hcl.reportBytes.length, 1184);
        assert.equal(ev.hcl.reportType, 2);
        assert.equal(ev.hcl.hashType, "sha256");
        assert.equal(ev.runtime.akPub.kid, "HCLAkPub");
        assert.equal(ev.runtime.akPub.kty, "RSA");

        let expected = parsedFor(e, path);
        if (expected === undefined) {
          // index.json records v0 only: v1 carries the same report, re-signed (ECDSA is
          // randomised), so everything below the signature must be identical.
          assert.equal(basename(path), "evidence-v1.json");
          const v0 = parseAzureEvidence(read(MILAN.files.evidence_v0 as string));
          assert.deepEqual(
            ev.hcl.reportBytes.subarray(0, 0x2a0),
            v0.hcl.reportBytes.subarray(0, 0x2a0),
          );
          assert.notDeepEqual(ev.hcl.reportBytes, v0.hcl.reportBytes);
          expected = parsedFor(e, MILAN.files.evidence_v0 as string);
        }
        assert.ok(expected);
        const fields = reportFields(ev.hcl.reportBytes);
        assert.equal(fields.version, expected.version);
        assert.equal(fields.report_data, expected.report_data);
        assert.equal(fields.measurement, expected.measurement);
        assert.equal(fields.reported_tcb, expected.reported_tcb);
        if (expected.chip_id !== undefined) assert.equal(fields.chip_id, expected.chip_id);

        const binding = await verifyAzureBinding(ev, reportDataOf(ev));
        const passed = binding.checks.filter((c) => c.status === "pass").map((c) => c.code);
        assert.ok(passed.includes("azure.runtime_data.binding"));
        assert.ok(passed.includes("azure.runtime_data.padding"));

        const source = SOURCE[basename(path)];
        if (source === undefined) {
          // The bare HCL report: no quote, so no nonce and no PCRs.
          assert.equal(ev.quote, undefined);
          assert.equal(binding.nonce, undefined);
          assert.throws(() => checkAzureNonce(binding, utf8("challenge")), VerificationError);
          return;
        }
        assert.ok(passed.includes("azure.tpm_quote.signature"));
        assert.ok(passed.includes("azure.tpm_quote.pcr_digest"));
        assert.ok(ev.vcek !== undefined, "the envelope carries the VCEK");
        assert.equal(checkAzureNonce(binding, source.nonce).status, "pass");
        assert.equal(binding.pcrs?.length, 24);
        assert.equal(toHex(binding.pcrs?.[0] as Uint8Array), source.pcr0);
      });
    }
  }

  test("v2 (newer paravisor): user-data starts with the nonce the quote carries", async () => {
    const ev = parseAzureEvidence(read(MILAN.files.evidence_v2 as string));
    const binding = await verifyAzureBinding(ev, reportDataOf(ev));
    const nonce = SOURCE["evidence-v2.json"]?.nonce as Uint8Array;
    assert.equal(nonce.length, 48);
    assert.equal(binding.userData?.length, 64);
    assert.deepEqual(binding.userData?.subarray(0, 48), nonce);
    assert.ok(binding.userData?.subarray(48).every((b) => b === 0));
  });

  test("the envelope dialects decode to the same kinds of values", () => {
    const v0 = parseAzureEvidence(read(MILAN.files.evidence_v0 as string));
    const v1 = parseAzureEvidence(read(MILAN.files.evidence_v1 as string));
    assert.equal(typeof v0.vcek, "string"); // PEM text
    assert.ok(v1.vcek instanceof Uint8Array); // base64url DER
    assert.equal((v1.vcek as Uint8Array)[0], 0x30);
    assert.equal(v0.quote?.signature.length, 256);
    assert.equal(v1.quote?.signature.length, 256);
    assert.equal(v0.runtime.vmConfiguration?.["secure-boot"], true);
  });

  test("tpm-quote-v1.json is signed by the AK of hcl-report.bin, nonce challenge", async () => {
    const ev = parseAzureEvidence(envelope(milanHcl));
    const binding = await verifyAzureBinding(ev, reportDataOf(ev));
    assert.deepEqual(
      binding.checks.map((c) => [c.code, c.status]),
      [
        ["azure.runtime_data.binding", "pass"],
        ["azure.runtime_data.padding", "pass"],
        ["azure.tpm_quote.signature", "pass"],
        ["azure.tpm_quote.pcr_digest", "pass"],
      ],
    );
    assert.equal(Buffer.from(binding.nonce as Uint8Array).toString(), "challenge");
    const quote = parseTpmQuote(fromHex(quoteV1.message) as Uint8Array);
    assert.deepEqual(quote.pcrSelections, [
      { hashAlg: 0x000b, pcrs: Array.from({ length: 24 }, (_, i) => i) },
    ]);
    assert.equal(quote.pcrDigest.length, 32);
  });

  test("a TPMT_SIGNATURE-wrapped signature verifies like the raw one", async () => {
    const { runtime } = parseAzureEvidence(milanHcl);
    const message = fromHex(quoteV1.message) as Uint8Array;
    const raw = fromHex(quoteV1.signature) as Uint8Array;
    const wrapped = concat([new Uint8Array([0x00, 0x14, 0x00, 0x0b, 0x01, 0x00]), raw]);
    const checks = await verifyTpmQuote(
      parseTpmQuote(message),
      message,
      wrapped,
      runtime.akPub,
      [],
    );
    assert.deepEqual(
      checks.map((c) => [c.code, c.status]),
      [
        ["azure.tpm_quote.signature", "pass"],
        ["azure.tpm_quote.pcr_digest", "skip"],
      ],
    );
  });
});

function mutated(bytes: Uint8Array, at: number, f: (b: number) => number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = f(copy[at] as number);
  return copy;
}

/** Asserts `fn` throws an instance of `type` with `code`, and returns the code. */
function throwsCode(
  fn: () => unknown,
  type: abstract new (...args: never[]) => CloisterError,
  code: string,
): string {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof type, `expected a ${type.name}, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
  return code;
}

describe("Azure vTPM negatives (trustee's list and ours)", () => {
  const codes = new Set<string>();
  const reportData = reportDataOf(parseAzureEvidence(milanHcl));

  test("HCL byte 0x6E0 += 1 (inside the runtime JSON) breaks the REPORT_DATA binding", async () => {
    const ev = parseAzureEvidence(mutated(milanHcl, 0x6e0, (b) => b + 1));
    await rejectsWith(verifyAzureBinding(ev, reportData), "azure.runtime_data.binding");
    codes.add("azure.runtime_data.binding");
  });

  test("HCL byte 0x540 := 0 (inside HCLAkPub) leaves no AK: a ParseError", () => {
    const parse = () => parseAzureEvidence(mutated(milanHcl, 0x540, () => 0));
    codes.add(throwsCode(parse, ParseError, "azure.runtime_data.malformed"));
  });

  test("a runtime JSON whose keys lack kid HCLAkPub is refused as ak_missing", () => {
    const text = Buffer.from(milanHcl).toString("latin1").replace('"HCLAkPub"', '"HCLAkPuX"');
    const parse = () => parseAzureEvidence(new Uint8Array(Buffer.from(text, "latin1")));
    codes.add(throwsCode(parse, ParseError, "azure.runtime_data.ak_missing"));
  });

  test("TPM signature byte 0 ^= 1 fails the quote signature", async () => {
    const signature = mutated(fromHex(quoteV1.signature) as Uint8Array, 0, (b) => b ^ 1);
    const ev = parseAzureEvidence(envelope(milanHcl, { ...quoteV1, signature: toHex(signature) }));
    await rejectsWith(verifyAzureBinding(ev, reportData), "azure.tpm_quote.signature");
    codes.add("azure.tpm_quote.signature");
  });

  test("PCR0 byte 0 ^= 1 fails the PCR digest", async () => {
    const pcr0 = mutated(fromHex(quoteV1.pcrs[0] as string) as Uint8Array, 0, (b) => b ^ 1);
    const pcrs = [toHex(pcr0), ...quoteV1.pcrs.slice(1)];
    const ev = parseAzureEvidence(envelope(milanHcl, { ...quoteV1, pcrs }));
    await rejectsWith(verifyAzureBinding(ev, reportData), "azure.tpm_quote.pcr_digest");
    codes.add("azure.tpm_quote.pcr_digest");
  });

  test("a PCR the quote does not cover, or one missing, fails the PCR digest", async () => {
    const extra = parseAzureEvidence(
      envelope(milanHcl, { ...quoteV1, pcrs: [...quoteV1.pcrs, quoteV1.pcrs[0] as string] }),
    );
    await rejectsWith(verifyAzureBinding(extra, reportData), "azure.tpm_quote.pcr_digest");
    const short = parseAzureEvidence(
      envelope(milanHcl, { ...quoteV1, pcrs: quoteV1.pcrs.slice(0, 23) }),
    );
    await rejectsWith(verifyAzureBinding(short, reportData), "azure.tpm_quote.pcr_digest");
  });

  test("the reversed nonce is not the quote's nonce", async () => {
    const ev = parseAzureEvidence(envelope(milanHcl));
    const binding = await verifyAzureBinding(ev, reportData);
    const check = () => checkAzureNonce(binding, utf8("challenge").reverse());
    codes.add(throwsCode(check, VerificationError, "azure.tpm_quote.nonce"));
  });

  test("REPORT_DATA with a non-zero tail is refused", async () => {
    const ev = parseAzureEvidence(milanHcl);
    const tampered = mutated(reportData, 63, (b) => b ^ 1);
    await rejectsWith(verifyAzureBinding(ev, tampered), "azure.runtime_data.padding");
    codes.add("azure.runtime_data.padding");
  });

  test("each negative failed with its own code", () => {
    assert.equal(codes.size, 7);
  });
});

describe("Azure HCL report parser: malformed input", () => {
  const parseFails = (bytes: Uint8Array, field: string, offset: number | undefined) =>
    assert.throws(
      () => parseHclReport(bytes),
      (err: unknown) =>
        err instanceof ParseError &&
        err.code === "azure.hcl_report.malformed" &&
        err.field === field &&
        err.offset === offset,
    );
  const u32le = (bytes: Uint8Array, at: number, value: number) => {
    const copy = bytes.slice();
    new DataView(copy.buffer).setUint32(at, value, true);
    return copy;
  };

  test("bad magic, truncation and impossible sizes name field and offset", () => {
    parseFails(
      mutated(milanHcl, 0, () => 0x58),
      "signature",
      0,
    );
    parseFails(milanHcl.slice(0, 0x4d3), "HCL report", 0x4d3);
    parseFails(u32le(milanHcl, 0x4d0, 0xffff_fff0), "variable_data_size", 0x4d0);
    parseFails(u32le(milanHcl, 0x4d0, milanHcl.length), "variable_data_size", 0x4d0);
    parseFails(u32le(milanHcl, 0x08, milanHcl.length + 1), "report_size", 0x08);
    parseFails(u32le(milanHcl, 0x4c0, 19), "data_size", 0x4c0);
    parseFails(u32le(milanHcl, 0x4cc, 4), "report_data_hash_type", 0x4cc);
  });

  test("a TDX HCL report (report type 4) is refused, and not sniffed as SNP", () => {
    const tdx = read("tdx/azure-vtpm-tdx/hcl-report.bin");
    parseFails(tdx, "report_type", 0x4c8);
    assert.equal(isAzureEvidence(tdx), false);
    assert.equal(isAzureEvidence(read("tdx/azure-vtpm-tdx/evidence-v0.json")), false);
  });

  test("plain SNP evidence is not sniffed as Azure", () => {
    assert.equal(isAzureEvidence(read("sev-snp/trustee-genoa-e2e/evidence.json")), false);
    assert.equal(isAzureEvidence(milanHcl.slice(0x20, 0x4c0)), false);
  });

  test("the hash type selects a longer digest and a shorter zero tail", async () => {
    const sha384 = u32le(milanHcl, 0x4cc, 2);
    const ev = parseAzureEvidence(sha384);
    assert.equal(ev.hcl.hashType, "sha384");
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-384", asBufferSource(ev.hcl.runtimeData)),
    );
    const reportData = concat([digest, new Uint8Array(16)]);
    const binding = await verifyAzureBinding(ev, reportData);
    assert.match(binding.checks[0]?.message ?? "", /REPORT_DATA\[0:48\] is the SHA-384/);
    await rejectsWith(verifyAzureBinding(ev, reportDataOf(ev)), "azure.runtime_data.binding");
  });

  test("runtime data must be a JSON object with an RSA HCLAkPub", () => {
    const bad = [
      "[1]",
      '{"keys":{}}',
      '{"keys":[{"kid":"HCLAkPub","kty":"EC"}]}',
      '{"keys":[{"kid":"HCLAkPub","kty":"RSA","n":"!","e":"AQAB"}]}',
      '{"keys":[{"kid":"HCLAkPub","kty":"RSA","n":"AQAB","e":"AQAB"}],"user-data":"xyz"}',
    ];
    for (const text of bad) {
      assert.throws(() => parseRuntimeData(utf8(text)), ParseError, text);
    }
  });
});

test("property: mutated vectors parse or throw ParseError; binding rejects only with CloisterError", async () => {
  const bases = [milanHcl, read(MILAN.files.evidence_v1 as string), envelope(milanHcl)];
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: bases.length - 1 }),
      fc.array(
        fc.record({
          // Half the edits land in the HCL header and request data, where the lengths live.
          at: fc.oneof(fc.integer({ min: 0, max: 0x4e0 }), fc.nat()),
          value: fc.integer({ min: 0, max: 255 }),
        }),
        { minLength: 1, maxLength: 4 },
      ),
      fc.option(fc.nat(), { nil: undefined }),
      async (which, edits, cut) => {
        const base = bases[which] as Uint8Array;
        let bytes = base.slice();
        for (const { at, value } of edits) bytes[at % bytes.length] = value;
        if (cut !== undefined) bytes = bytes.slice(0, cut % (bytes.length + 1));
        let ev: AzureEvidence;
        try {
          ev = parseAzureEvidence(bytes);
        } catch (err) {
          assert.ok(err instanceof ParseError, `not a ParseError: ${String(err)}`);
          return;
        }
        try {
          await verifyAzureBinding(ev, reportDataOf(ev));
        } catch (err) {
          assert.ok(err instanceof CloisterError, `not a CloisterError: ${String(err)}`);
        }
      },
    ),
    { numRuns: 2000 },
  );
});
