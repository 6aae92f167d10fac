import assert from "node:assert/strict";
import { createHash, verify as verifySignature, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  ENCLAVE_REPORT_BODY_SIZE,
  isDcapQuote,
  parseEnclaveReportBody,
  parseQuote,
  parseTdReportBody,
  type Quote,
} from "../../../src/attest/dcap/abi/index.js";
import { asBufferSource, fromBase64Url, toHex } from "../../../src/bytes.js";
import { ParseError } from "../../../src/errors.js";
import {
  TESTVECTORS,
  VECTOR_INDEX,
  type VectorEntry,
  vectorEntry,
} from "../../support/testvectors.js";

const read = (path: string) => new Uint8Array(readFileSync(`${TESTVECTORS}${path}`));

/** Every binary quote of every TDX and SGX entry: roles "quote", "quote (derived)", "td_quote". */
const QUOTES = VECTOR_INDEX.filter((e) => e.tee === "tdx" || e.tee === "sgx").flatMap((entry) =>
  Object.entries(entry.files)
    .filter(([role, path]) => role.includes("quote") && !path.endsWith(".json"))
    .map(([role, path]) => ({ entry, role, path, bytes: read(path) })),
);

/** The "quote (fmt)" column of README §3 and the file names of §4. */
const VERSION: Readonly<Record<string, number>> = {
  "tdx/go-tdx-guest-spr-v4": 4,
  "tdx/go-tdx-guest-v5": 5,
  "tdx/go-tdx-guest-gcp-ccel": 4,
  "tdx/dcap-qvl-uptodate": 4,
  "tdx/dcap-qvl-outdated": 5,
  "tdx/trustee-quote4": 4,
  "tdx/trustee-quote5": 5,
  "tdx/trustee-quote6": 4,
  "tdx/automata-gcp-v4": 4,
  "tdx/automata-alibaba-v5": 5,
  "tdx/oak-tdx": 4,
  "tdx/azure-vtpm-tdx": 4,
  "sgx/dcap-qvl": 3,
  "sgx/automata-azure-v3": 3,
  "sgx/trustee-occlum": 3,
};

/** Intel's quoting enclaves' QE_VENDOR_ID (go-tdx-guest asserts it for the SPR quote). */
const INTEL_QE_VENDOR_ID = "939a7233f79c4ca9940a0db3957f0607";

/** index.json `parsed` keys -> the parsed field, as the hex (or number) the index writes. */
function tdField(quote: Quote & { teeType: "tdx" }, key: string): string | undefined {
  const b = quote.body;
  const rtmr = /^rtmr([0-3])$/.exec(key);
  if (rtmr !== null) return toHex(b.rtmrs[Number(rtmr[1])] as Uint8Array);
  const fields: Record<string, Uint8Array> = {
    tee_tcb_svn: b.teeTcbSvn,
    minimum_tee_tcb_svn: b.teeTcbSvn,
    mr_seam: b.mrSeam,
    td_attributes: b.tdAttributes.raw,
    xfam: b.xfam.raw,
    mr_td: b.mrTd,
    mr_config_id: b.mrConfigId,
    report_data: b.reportData,
    qe_vendor_id: quote.header.qeVendorId,
  };
  const value = fields[key];
  return value === undefined ? undefined : toHex(value);
}

function sgxField(quote: Quote & { teeType: "sgx" }, key: string): string | number | undefined {
  const b = quote.body;
  const fields: Record<string, string | number> = {
    cpu_svn: toHex(b.cpuSvn),
    attributes: toHex(b.attributes.raw),
    mr_enclave: toHex(b.mrEnclave),
    mr_signer: toHex(b.mrSigner),
    isv_prod_id: b.isvProdId,
    isv_svn: b.isvSvn,
    report_data: toHex(b.reportData),
  };
  return fields[key];
}

function field(quote: Quote, key: string): string | number | undefined {
  return quote.teeType === "tdx" ? tdField(quote, key) : sgxField(quote, key);
}

/** Where the declared signature data ends: what a parser must use instead of the file length. */
function declaredEnd(quote: Quote, bytes: Uint8Array): number {
  const at = quote.signedBytes.length;
  return at + 4 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);
}

function throwsParse(bytes: Uint8Array, code: string, fieldName?: string, offset?: number) {
  assert.throws(
    () => parseQuote(bytes),
    (error: unknown) => {
      assert.ok(error instanceof ParseError, `not a ParseError: ${String(error)}`);
      assert.equal(error.code, code, error.message);
      if (fieldName !== undefined) assert.equal(error.field, fieldName, error.message);
      if (offset !== undefined) assert.equal(error.offset, offset, error.message);
      return true;
    },
  );
}

const withByte = (bytes: Uint8Array, at: number, value: number) => {
  const copy = bytes.slice();
  copy[at] = value;
  return copy;
};
const withU16 = (bytes: Uint8Array, at: number, value: number) => {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint16(at, value, true);
  return copy;
};
const withU32 = (bytes: Uint8Array, at: number, value: number) => {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(at, value, true);
  return copy;
};
const u16 = (n: number) => Uint8Array.of(n & 0xff, n >> 8);
const u32 = (n: number) => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, true);
  return out;
};

test("the index lists 15 TDX and SGX quotes, each with a known version", () => {
  assert.equal(QUOTES.length, 15);
  for (const { entry } of QUOTES) assert.ok(entry.id in VERSION, `${entry.id} has no version`);
});

describe("every TDX and SGX quote in index.json", () => {
  for (const { entry, role, path, bytes } of QUOTES) {
    test(`${entry.id} (${role}) parses to the values the index records`, async () => {
      const quote = parseQuote(bytes);
      assert.equal(quote.teeType, entry.tee);
      assert.equal(quote.header.teeType, entry.tee);
      assert.equal(quote.header.version, VERSION[entry.id]);
      assert.equal(quote.header.attestationKeyType, 2);
      assert.equal(toHex(quote.header.qeVendorId), INTEL_QE_VENDOR_ID);
      assert.ok(isDcapQuote(bytes));

      const parsed = entry.parsed ?? {};
      assert.ok(Object.keys(parsed).length >= 7, `${path}: nothing to compare`);
      for (const [key, expected] of Object.entries(parsed)) {
        assert.equal(field(quote, key), expected, `${entry.id} ${key}`);
      }

      // Header, optional descriptor and body are what the quote signature covers, so checking
      // it proves that signedBytes, the signature and the attestation key are cut right.
      const { signature, attestationKey, certification } = quote.signatureData;
      const key = await crypto.subtle.importKey(
        "raw",
        Buffer.concat([Uint8Array.of(4), attestationKey]),
        { name: "ECDSA", namedCurve: "P-256" },
        false,
        ["verify"],
      );
      assert.ok(
        await crypto.subtle.verify(
          { name: "ECDSA", hash: "SHA-256" },
          key,
          asBufferSource(signature),
          asBufferSource(quote.signedBytes),
        ),
        "quote signature",
      );
      const bodySize = quote.teeType === "sgx" ? 384 : quote.body.kind === "td15" ? 648 : 584;
      assert.equal(quote.signedBytes.length, 48 + (quote.header.version === 5 ? 6 : 0) + bodySize);

      // QE REPORTDATA binds the attestation key and QE auth data: the QE report and auth data
      // are cut right. The PCK leaf verifies the QE report signature: so is the PEM chain.
      const binding = createHash("sha256")
        .update(attestationKey)
        .update(certification.qeAuthData)
        .digest();
      assert.deepEqual(certification.qeReport.reportData.subarray(0, 32), new Uint8Array(binding));
      assert.ok(certification.qeReport.reportData.subarray(32).every((b) => b === 0));
      const pems = certification.pckChainPem.match(
        /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g,
      );
      assert.equal(pems?.length, 3);
      assert.ok(!certification.pckChainPem.includes("\0"));
      const [leaf, , root] = (pems ?? []).map((pem) => new X509Certificate(pem));
      assert.match(root?.subject ?? "", /Intel SGX Root CA/);
      assert.ok(
        verifySignature(
          "sha256",
          certification.qeReport.bytes,
          { key: (leaf as X509Certificate).publicKey, dsaEncoding: "ieee-p1363" },
          certification.qeReportSignature,
        ),
        "QE report signature",
      );

      const qe = (entry.our_check as { qe?: { isvsvn: number } } | undefined)?.qe;
      if (qe !== undefined) assert.equal(certification.qeReport.isvSvn, qe.isvsvn);
      // SGX QE: product 1; TD QE: product 2.
      assert.equal(certification.qeReport.isvProdId, quote.teeType === "sgx" ? 1 : 2);
      if (quote.teeType === "sgx") {
        // Version 3 headers carry the QE's own ISVSVN as QE SVN.
        assert.equal(quote.header.qeSvn, certification.qeReport.isvSvn);
      } else {
        assert.equal(quote.header.qeSvn, 0);
        assert.equal(quote.header.pceSvn, 0);
      }
    });
  }
});

test("go-tdx-guest's SPR quote has the values its tests assert", () => {
  const entry = vectorEntry("tdx/go-tdx-guest-spr-v4");
  const quote = parseQuote(read(entry.files.quote as string));
  assert.equal(quote.teeType, "tdx");
  if (quote.teeType !== "tdx") return;
  const asserts = entry.source_asserts as Record<string, string>;
  for (const key of ["mr_td", "mr_seam", "td_attributes", "xfam", "report_data"]) {
    assert.equal(tdField(quote, key), asserts[key], key);
  }
  assert.equal(toHex(quote.header.qeVendorId), asserts.qe_vendor_id);
  assert.equal(toHex(quote.body.teeTcbSvn), asserts.minimum_tee_tcb_svn);
  assert.match(asserts["mr_config_id/mr_owner/mr_owner_config"] as string, /^48 zero bytes/);
  for (const value of [quote.body.mrConfigId, quote.body.mrOwner, quote.body.mrOwnerConfig]) {
    assert.deepEqual(value, new Uint8Array(48));
  }
  const [rtmrs, rtmr3] = (asserts["rtmr0..2 (accepted)"] as string).split(";");
  assert.deepEqual(
    rtmrs?.split(",").map((s) => s.trim()),
    quote.body.rtmrs.slice(0, 3).map(toHex),
  );
  assert.equal(rtmr3?.trim(), "rtmr3 zero");
  assert.deepEqual(quote.body.rtmrs[3], new Uint8Array(48));
  const qe = /^MRSIGNER ([0-9a-f]{64}), ISVPRODID (\d+)$/.exec(asserts["QE report"] as string);
  assert.ok(qe !== null);
  const qeReport = quote.signatureData.certification.qeReport;
  assert.equal(toHex(qeReport.mrSigner), qe[1]);
  assert.equal(qeReport.isvProdId, Number(qe[2]));
  assert.equal(quote.body.kind, "td10");
  // Bit 30, SEPT_VE_DISABLE: the raw bytes 00 00 00 40 are little-endian.
  assert.equal(quote.body.tdAttributes.value, 0x4000_0000n);
  assert.equal(quote.body.xfam.value, 0x61ae7n);
});

test("dcap-qvl's SGX quote has README §4's header SVNs and little-endian attributes", () => {
  const quote = parseQuote(read(vectorEntry("sgx/dcap-qvl").files.quote as string));
  assert.equal(quote.teeType, "sgx");
  if (quote.teeType !== "sgx") return;
  assert.equal(quote.header.qeSvn, 10);
  assert.equal(quote.header.pceSvn, 15);
  assert.equal(new TextDecoder().decode(quote.body.reportData.subarray(0, 13)), "Hello, world!");
  assert.equal(quote.body.attributes.flags, 5n);
  assert.equal(quote.body.attributes.xfrm, 0xe7n);
  assert.equal(quote.signedBytes.length, 432);
});

test("v5 quotes carry TDX 1.5 bodies with TEE_TCB_SVN2 and MRSERVICETD", () => {
  for (const { entry, bytes } of QUOTES.filter((q) => VERSION[q.entry.id] === 5)) {
    const quote = parseQuote(bytes);
    assert.equal(quote.teeType, "tdx");
    if (quote.teeType !== "tdx") continue;
    assert.equal(quote.body.kind, "td15", entry.id);
    assert.equal(quote.body.teeTcbSvn2?.length, 16);
    assert.equal(quote.body.mrServiceTd?.length, 48);
    // TEE_TCB_SVN2 sits right after REPORTDATA, at 54 + 584 in the quote.
    assert.deepEqual(quote.body.teeTcbSvn2, bytes.subarray(638, 654));
  }
  for (const { bytes } of QUOTES.filter((q) => VERSION[q.entry.id] === 4)) {
    const quote = parseQuote(bytes);
    assert.ok(quote.teeType === "tdx" && quote.body.kind === "td10");
    assert.ok(!("teeTcbSvn2" in quote.body) && !("mrServiceTd" in quote.body));
  }
});

test("bytes after the declared signature data are ignored; the declared data must be there", () => {
  let trailing = 0;
  for (const { entry, bytes } of QUOTES) {
    const quote = parseQuote(bytes);
    const end = declaredEnd(quote, bytes);
    assert.ok(end <= bytes.length);
    if (end < bytes.length) trailing++;
    assert.deepEqual(parseQuote(bytes.subarray(0, end)), quote, entry.id);
    const extended = Buffer.concat([bytes, Buffer.from("\0\xff trailing garbage\n")]);
    assert.deepEqual(parseQuote(extended), quote, entry.id);
    throwsParse(bytes.subarray(0, end - 1), "dcap.quote.signature_data", "signature_data.size");
  }
  // go-tdx-guest SPR (appended text), the 8000-byte GCP buffers, the 5006-byte buffers.
  assert.ok(trailing >= 6, `only ${trailing} quotes have trailing bytes`);
  const spr = read(vectorEntry("tdx/go-tdx-guest-spr-v4").files.quote as string);
  const end = declaredEnd(parseQuote(spr), spr);
  assert.equal(
    Buffer.from(spr.subarray(end)).toString("latin1"),
    "\nextra bytes(only for testing purpose)\n",
  );
  const gcp = read(vectorEntry("tdx/go-tdx-guest-gcp-ccel").files.quote as string);
  assert.equal(gcp.length, 8000);
  assert.ok(gcp.subarray(declaredEnd(parseQuote(gcp), gcp)).every((b) => b === 0));
});

test("go-tdx-guest TestNegativeVerification: the edits that are parse failures", () => {
  const spr = read(vectorEntry("tdx/go-tdx-guest-spr-v4").files.quote as string);
  // 0x00 := 3: a version 3 header cannot carry a TD (go-tdx-guest: "quote format not supported").
  throwsParse(withByte(spr, 0x00, 3), "dcap.quote.version", "version", 0);
  // 0x278 := 0x10: the signature data shrinks to 0x1010 bytes, leaving 0xf8a for certification
  // data that declares 0x1045 (go-tdx-guest: "size of certificate data is 0xf8a. Expected
  // size 0x1045"). The size field is at 636 + 64 + 64 + 2.
  const edited = withByte(spr, 0x278, 0x10);
  throwsParse(edited, "dcap.quote.certification_data", "certification_data.size", 766);
  assert.throws(() => parseQuote(edited), /declares 4165 bytes, but the signature data has 3978/);
  // The other rows change certificate or signed bytes: the quote still parses.
  for (const at of [0x1343, 0x1329, 0xf5f, 0xb77, 0x1e, 0x3c]) parseQuote(withByte(spr, at, 0x32));
});

const SNIFFED_FIELDS: ReadonlySet<string> = new Set([
  "header",
  "version",
  "attestation_key_type",
  "tee_type",
  "body_descriptor",
  "body_type",
  "body_size",
]);

describe("malformed quotes are ParseErrors naming the field and offset", () => {
  const v4 = read(vectorEntry("tdx/go-tdx-guest-spr-v4").files.quote as string);
  const v5 = read(vectorEntry("tdx/go-tdx-guest-v5").files.quote as string);
  const v3 = read(vectorEntry("sgx/trustee-occlum").files.quote as string);
  const authSize = parseQuote(v4).signatureData.certification.qeAuthData.length;
  // v4 TDX: signature data at 48 + 584 + 4; certification data after signature and key.
  const sigAt = 636;
  const outerAt = sigAt + 128;
  const qeAuthAt = outerAt + 6 + 384 + 64;
  const nestedAt = qeAuthAt + 2 + authSize;
  const pemAt = nestedAt + 6;

  const cases: [string, Uint8Array, string, string, number][] = [
    ["empty input", new Uint8Array(0), "dcap.quote.length", "header", 0],
    ["47 bytes", v4.subarray(0, 47), "dcap.quote.length", "header", 47],
    ["version 2", withU16(v4, 0, 2), "dcap.quote.version", "version", 0],
    ["version 6", withU16(v4, 0, 6), "dcap.quote.version", "version", 0],
    ["ECDSA-384 key", withU16(v4, 2, 3), "dcap.quote.key_type", "attestation_key_type", 2],
    ["TEE type 0x80", withU32(v4, 4, 0x80), "dcap.quote.tee_type", "tee_type", 4],
    ["v3 TEE type 0x81", withU32(v3, 4, 0x81), "dcap.quote.version", "version", 0],
    ["v3 TEE type 1", withU32(v3, 4, 1), "dcap.quote.tee_type", "tee_type", 4],
    ["truncated TD body", v4.subarray(0, 600), "dcap.quote.length", "body", 48],
    ["no length field", v4.subarray(0, 634), "dcap.quote.length", "signature_data.size", 632],
    ["v5 without descriptor", v5.subarray(0, 50), "dcap.quote.length", "body_descriptor", 48],
    ["v5 body type 4", withU16(v5, 48, 4), "dcap.quote.body_type", "body_type", 48],
    ["v5 body type 0", withU16(v5, 48, 0), "dcap.quote.body_type", "body_type", 48],
    ["v5 TDX with SGX body", withU16(v5, 48, 1), "dcap.quote.body_type", "body_type", 48],
    ["v5 TD 1.5 with 584 bytes", withU32(v5, 50, 584), "dcap.quote.body_size", "body_size", 50],
    ["v5 TD 1.0 with 648 bytes", withU16(v5, 48, 2), "dcap.quote.body_size", "body_size", 50],
    [
      "signature data past the end",
      withU32(v4, 632, 0xffffffff),
      "dcap.quote.signature_data",
      "signature_data.size",
      632,
    ],
    [
      "signature data too short for the key",
      withU32(v4, 632, 100),
      "dcap.quote.signature_data",
      "attestation_key",
      sigAt + 64,
    ],
    [
      "signature data ends in the size field",
      withU32(v4, 632, 129),
      "dcap.quote.signature_data",
      "certification_data.type",
      outerAt,
    ],
    [
      "outer type 5",
      withU16(v4, outerAt, 5),
      "dcap.quote.certification_type",
      "certification_data.type",
      outerAt,
    ],
    [
      "outer size short by one",
      withU32(v4, outerAt + 2, parseQuoteOuterSize(v4) - 1),
      "dcap.quote.certification_data",
      "certification_data.size",
      outerAt + 2,
    ],
    [
      "QE auth data past its container",
      withU16(v4, qeAuthAt, 0xffff),
      "dcap.quote.qe_auth_data",
      "qe_auth_data.size",
      qeAuthAt,
    ],
    [
      "nested type 3",
      withU16(v4, nestedAt, 3),
      "dcap.quote.certification_type",
      "pck_cert_chain.type",
      nestedAt,
    ],
    [
      "nested size larger than the outer",
      withU32(v4, nestedAt + 2, 0x10000),
      "dcap.quote.certification_data",
      "pck_cert_chain.size",
      nestedAt + 2,
    ],
    [
      "non-ASCII byte in the chain",
      withByte(v4, pemAt + 40, 0xc3),
      "dcap.quote.pck_chain",
      "pck_cert_chain",
      pemAt + 40,
    ],
    [
      "NUL inside the chain",
      withByte(v4, pemAt + 40, 0),
      "dcap.quote.pck_chain",
      "pck_cert_chain",
      pemAt + 40,
    ],
    [
      "v3 certification type 6",
      withU16(v3, 436 + 128 + 384 + 64 + 2 + authSize, 6),
      "dcap.quote.certification_type",
      "pck_cert_chain.type",
      436 + 128 + 384 + 64 + 2 + authSize,
    ],
  ];
  for (const [name, bytes, code, fieldName, offset] of cases) {
    test(name, () => {
      throwsParse(bytes, code, fieldName, offset);
      // The sniff reads the header and v5 descriptor: it refuses exactly what breaks them.
      assert.equal(isDcapQuote(bytes), !SNIFFED_FIELDS.has(fieldName));
    });
  }

  test("a chain of NULs only is empty", () => {
    const size = parseQuoteOuterSize(v4) - (nestedAt + 6 - (outerAt + 6));
    const zeroed = v4.slice();
    zeroed.fill(0, pemAt, pemAt + size);
    throwsParse(zeroed, "dcap.quote.pck_chain", "pck_cert_chain", pemAt);
  });
});

/** The outer certification data's declared size, read where the v4 TDX layout puts it. */
function parseQuoteOuterSize(v4: Uint8Array): number {
  return new DataView(v4.buffer, v4.byteOffset).getUint32(636 + 128 + 2, true);
}

/** A v4/v5 signature data from a parsed quote's parts: the type 6 wrapper around them. */
function wrappedSignatureData(quote: Quote): Uint8Array {
  const { signature, attestationKey, certification: c } = quote.signatureData;
  const pem = Buffer.from(`${c.pckChainPem}\0`, "latin1");
  const inner = Buffer.concat([
    c.qeReport.bytes,
    c.qeReportSignature,
    u16(c.qeAuthData.length),
    c.qeAuthData,
    u16(5),
    u32(pem.length),
    pem,
  ]);
  const data = Buffer.concat([signature, attestationKey, u16(6), u32(inner.length), inner]);
  return Buffer.concat([u32(data.length), data]);
}

describe("layouts no vector has, built from real parts", () => {
  const sgx = parseQuote(read(vectorEntry("sgx/dcap-qvl").files.quote as string));
  const tdx = parseQuote(read(vectorEntry("tdx/trustee-quote4").files.quote as string));
  const header = (quote: Quote, version: number) =>
    withU16(quote.signedBytes.subarray(0, 48), 0, version);
  const sgxBody = sgx.signedBytes.subarray(48);
  const tdBody = tdx.signedBytes.subarray(48);

  test("v4 SGX: SGX body, then certification data type 6", () => {
    const bytes = Buffer.concat([header(sgx, 4), sgxBody, wrappedSignatureData(sgx)]);
    const quote = parseQuote(bytes);
    assert.equal(quote.teeType, "sgx");
    assert.deepEqual(quote.body, sgx.body);
    assert.deepEqual(quote.signatureData, sgx.signatureData);
    assert.equal(quote.signedBytes.length, 432);
    assert.ok(isDcapQuote(bytes));
  });

  test("v5 body type 1: SGX body behind a descriptor", () => {
    const bytes = Buffer.concat([
      header(sgx, 5),
      u16(1),
      u32(384),
      sgxBody,
      wrappedSignatureData(sgx),
    ]);
    const quote = parseQuote(bytes);
    assert.equal(quote.teeType, "sgx");
    assert.deepEqual(quote.body, sgx.body);
    assert.equal(quote.signedBytes.length, 438);
    throwsParse(withU32(bytes, 4, 0x81), "dcap.quote.body_type", "body_type", 48);
  });

  test("v5 body type 2: TDX 1.0 body behind a descriptor", () => {
    const bytes = Buffer.concat([
      header(tdx, 5),
      u16(2),
      u32(584),
      tdBody,
      wrappedSignatureData(tdx),
    ]);
    const quote = parseQuote(bytes);
    assert.ok(quote.teeType === "tdx" && quote.body.kind === "td10");
    assert.deepEqual(quote.body, tdx.body);
    assert.deepEqual(quote.signatureData, tdx.signatureData);
    assert.deepEqual(
      quote.signedBytes.subarray(0, 54),
      new Uint8Array(Buffer.concat([header(tdx, 5), u16(2), u32(584)])),
    );
    throwsParse(withU32(bytes, 4, 0), "dcap.quote.body_type", "body_type", 48);
  });

  test("v4 SGX with v3's unwrapped signature data is refused", () => {
    const v3 = read(vectorEntry("sgx/dcap-qvl").files.quote as string);
    // Certification data "type" is then the QE report's first two bytes (CPUSVN).
    throwsParse(withU16(v3, 0, 4), "dcap.quote.certification_type", "certification_data.type", 564);
  });
});

test("parseEnclaveReportBody and parseTdReportBody take exactly their sizes", () => {
  const quote = parseQuote(read(vectorEntry("tdx/trustee-quote5").files.quote as string));
  const qeReport = quote.signatureData.certification.qeReport;
  assert.deepEqual(parseEnclaveReportBody(qeReport.bytes), qeReport);
  assert.equal(qeReport.bytes.length, ENCLAVE_REPORT_BODY_SIZE);
  for (const length of [0, 383, 385, 584]) {
    assert.throws(
      () => parseEnclaveReportBody(new Uint8Array(length)),
      (e: unknown) => e instanceof ParseError && e.code === "dcap.quote.length",
    );
  }
  for (const length of [0, 384, 583, 585, 647, 649]) {
    assert.throws(
      () => parseTdReportBody(new Uint8Array(length)),
      (e: unknown) => e instanceof ParseError && e.code === "dcap.quote.length",
    );
  }
  assert.equal(parseTdReportBody(new Uint8Array(584)).kind, "td10");
  assert.equal(parseTdReportBody(new Uint8Array(648)).kind, "td15");
});

test("the parse is a private copy: later writes to the input change nothing", () => {
  const bytes = read(vectorEntry("tdx/dcap-qvl-uptodate").files.quote as string);
  const quote = parseQuote(bytes);
  const before = structuredClone(quote);
  bytes.fill(0xaa);
  assert.deepEqual(quote, before);
});

test("a Node Buffer input parses to plain Uint8Arrays that share no memory with it", () => {
  const path = vectorEntry("tdx/go-tdx-guest-v5").files.quote as string;
  const buffer = readFileSync(`${TESTVECTORS}${path}`);
  const quote = parseQuote(buffer);
  assert.deepEqual(quote, parseQuote(read(path)));
  assert.equal(Object.getPrototypeOf(quote.signedBytes), Uint8Array.prototype);
  assert.equal(Object.getPrototypeOf(quote.header.qeVendorId), Uint8Array.prototype);
  buffer.fill(0);
  assert.deepEqual(quote, parseQuote(read(path)));
});

test("isDcapQuote sniffs the header (and v5 descriptor) only", () => {
  const v4 = read(vectorEntry("tdx/oak-tdx").files["quote (derived)"] as string);
  assert.ok(isDcapQuote(v4.subarray(0, 48)));
  assert.ok(!isDcapQuote(v4.subarray(0, 47)));
  assert.ok(!isDcapQuote(new Uint8Array(0)));
  assert.ok(!isDcapQuote(new Uint8Array(1184)));
  assert.ok(!isDcapQuote(withU16(v4, 2, 3)));
  const v5 = read(vectorEntry("tdx/automata-alibaba-v5").files.quote as string);
  assert.ok(isDcapQuote(v5.subarray(0, 54)));
  assert.ok(!isDcapQuote(v5.subarray(0, 53)));
  assert.ok(!isDcapQuote(withU32(v5, 50, 1)));
  for (const e of VECTOR_INDEX.filter((e: VectorEntry) => e.tee === "sev-snp")) {
    const report = e.files.report;
    if (report !== undefined) assert.ok(!isDcapQuote(read(report)), e.id);
  }
});

test("the Trustee KBS request carries the Occlum SGX quote, base64 inside base64url JSON", () => {
  const entry = vectorEntry("kbs/coco-as-sgx-legacy");
  const request = JSON.parse(readFileSync(`${TESTVECTORS}${entry.files.as_request}`, "utf8")) as {
    verification_requests: { tee: string; evidence: string }[];
  };
  const [first] = request.verification_requests;
  assert.equal(first?.tee, "sgx");
  const evidence = fromBase64Url(first?.evidence ?? "");
  assert.ok(evidence !== undefined);
  const { quote: b64 } = JSON.parse(new TextDecoder().decode(evidence)) as { quote: string };
  const quote = parseQuote(Uint8Array.from(Buffer.from(b64, "base64")));
  const occlum = vectorEntry("sgx/trustee-occlum").parsed as Record<string, string>;
  assert.equal(quote.teeType, "sgx");
  assert.equal(quote.header.version, 3);
  assert.equal(field(quote, "mr_enclave"), occlum.mr_enclave);
  assert.equal(field(quote, "report_data"), occlum.report_data);
  // The index's prose abbreviates it as "mr_enclave 8f173e46...1c68".
  const mrEnclave = String(field(quote, "mr_enclave"));
  assert.ok(
    entry.expected.includes(`mr_enclave ${mrEnclave.slice(0, 8)}...${mrEnclave.slice(-4)}`),
  );
});
