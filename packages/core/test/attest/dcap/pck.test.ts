import "../../../src/attest/pki/x509.js";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { Extension, X509CertificateGenerator } from "@peculiar/x509";
import * as asn1 from "asn1js";
import { PCK_OIDS, readPckExtensions } from "../../../src/attest/dcap/pck.js";
import { parseCertificates } from "../../../src/attest/pki/certificates.js";
import type { X509Certificate } from "../../../src/attest/pki/x509.js";
import { asBufferSource, toHex } from "../../../src/bytes.js";
import { ParseError } from "../../../src/errors.js";
import { TESTVECTORS, VECTOR_INDEX, vectorEntry } from "../../support/testvectors.js";

/**
 * The SGX extension of every PCK certificate in the TDX and SGX quote vectors, against the values
 * the sources and the corpus's own parser state; then certificates built here with extensions
 * that break one rule each.
 */

const QUOTE_KEYS = ["quote", "quote (derived)", "td_quote"];
const quoteEntries = VECTOR_INDEX.filter(
  (e) => (e.tee === "tdx" || e.tee === "sgx") && QUOTE_KEYS.some((key) => key in e.files),
);

/** The PCK chain as the quote carries it (certification data type 5), leaf first. */
function quoteChain(path: string): X509Certificate[] {
  const text = readFileSync(TESTVECTORS + path).toString("latin1");
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]*-----END CERTIFICATE-----/.exec(text)?.[0];
  assert.ok(pem, `no PEM chain in ${path}`);
  return parseCertificates(pem, path);
}

function quotePath(files: Readonly<Record<string, string>>): string {
  const key = QUOTE_KEYS.find((k) => k in files);
  assert.ok(key);
  return files[key] as string;
}

const hex = (bytes: Uint8Array) => toHex(bytes);

describe("the PCK certificate of every TDX and SGX quote vector", () => {
  test("the index has the vectors this suite expects", () => {
    assert.ok(quoteEntries.length >= 15, `only ${quoteEntries.length} entries`);
  });

  for (const entry of quoteEntries) {
    test(entry.id, () => {
      const [leaf, intermediate] = quoteChain(quotePath(entry.files));
      assert.ok(leaf && intermediate);
      const pck = readPckExtensions(leaf);
      const ourCheck = entry.our_check as { fmspc?: string } | undefined;
      assert.ok(ourCheck?.fmspc, "the index states the FMSPC of every quote vector");
      assert.equal(pck.fmspc, ourCheck.fmspc);
      assert.match(pck.fmspc, /^[0-9a-f]{12}$/);
      assert.match(pck.pceId, /^[0-9a-f]{4}$/);
      assert.equal(pck.ppid.length, 16);
      // The CPUSVN octets and its 16 components are the same numbers in every Intel certificate.
      assert.deepEqual([...pck.cpuSvn], pck.cpuSvnComponents);
      // TDX runs only on Scalable SGX platforms (with or without integrity).
      if (entry.tee === "tdx") assert.notEqual(pck.sgxType, "Standard");
      // Platform Instance ID and configuration exist for Platform CA certificates only.
      const platform = intermediate.subjectName.getField("CN")[0] === "Intel SGX PCK Platform CA";
      assert.equal(pck.platformInstanceId !== undefined, platform);
      assert.equal(pck.configuration !== undefined, platform);
      if (pck.platformInstanceId) assert.equal(pck.platformInstanceId.length, 16);
    });
  }

  test("go-tdx-guest SPR: the golden values its tests assert", () => {
    const entry = vectorEntry("tdx/go-tdx-guest-spr-v4");
    const stated = entry.source_asserts?.["PCK extensions"];
    assert.equal(typeof stated, "string");
    const value = (name: string) => new RegExp(`${name} ([0-9a-f]+)`).exec(stated as string)?.[1];
    const [leaf] = quoteChain(entry.files.quote as string);
    assert.ok(leaf);
    const pck = readPckExtensions(leaf);
    assert.equal(pck.fmspc, value("FMSPC"));
    assert.equal(pck.pceId, value("PCEID"));
    assert.equal(pck.pceSvn, Number(value("PCESVN")));
    assert.equal(hex(pck.cpuSvn), value("CPUSVN"));
    assert.equal(hex(pck.ppid), value("PPID"));
    assert.deepEqual(pck.cpuSvnComponents, [3, 3, 2, 2, 2, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(pck.sgxType, "Scalable");
    assert.equal(hex(pck.platformInstanceId as Uint8Array), "8c314d17d205dfafcbecbb00fc87eff7");
    assert.deepEqual(pck.configuration, {
      dynamicPlatform: true,
      cachedKeys: false,
      smtEnabled: true,
    });
  });

  test("dcap-qvl SGX: a Processor CA certificate, Standard SGX, FMSPC 00a067110000", () => {
    const entry = vectorEntry("sgx/dcap-qvl");
    const [leaf, intermediate] = quoteChain(entry.files.quote as string);
    assert.ok(leaf && intermediate);
    assert.equal(intermediate.subjectName.getField("CN")[0], "Intel SGX PCK Processor CA");
    const pck = readPckExtensions(leaf);
    assert.equal(pck.fmspc, "00a067110000");
    assert.equal(pck.sgxType, "Standard");
    assert.equal(pck.pceSvn, 13);
    // Component 5 is 255: DER writes it 02 02 00 ff, which must still read as 255.
    assert.equal(hex(pck.cpuSvn), "0b0b0202ff0100000000000000000000");
    assert.equal(pck.platformInstanceId, undefined);
    assert.equal(pck.configuration, undefined);
  });
});

// ---------------------------------------------------------------------------------------------
// Built extensions: one well-formed, then each rule broken once.

const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
  "sign",
  "verify",
])) as CryptoKeyPair;

type Node = asn1.BaseBlock;
const oid = (value: string) => new asn1.ObjectIdentifier({ value });
const field = (id: string, value: Node) => new asn1.Sequence({ value: [oid(id), value] });
const int = (value: number) => new asn1.Integer({ value });
const octets = (length: number, fill = 0xab) =>
  new asn1.OctetString({ valueHex: new Uint8Array(length).fill(fill) });

interface Parts {
  ppid: Node;
  components: Node[];
  pceSvn: Node;
  cpuSvn: Node;
  pceId: Node;
  fmspc: Node;
  sgxType: Node;
  extra: Node[];
}

function wellFormed(): Parts {
  return {
    ppid: octets(16, 0x11),
    components: Array.from({ length: 16 }, (_, i) => int(i === 4 ? 255 : i)),
    pceSvn: int(0xffff),
    cpuSvn: octets(16, 0x22),
    pceId: new asn1.OctetString({ valueHex: new Uint8Array([0x00, 0x01]) }),
    fmspc: new asn1.OctetString({ valueHex: new Uint8Array([0x90, 0xc0, 0x6f, 0, 0, 0]) }),
    sgxType: new asn1.Enumerated({ value: 2 }),
    extra: [],
  };
}

function tcbOf(parts: Parts): Node {
  return new asn1.Sequence({
    value: [
      ...parts.components.map((value, i) => field(`${PCK_OIDS.tcb}.${i + 1}`, value)),
      field(PCK_OIDS.pceSvn, parts.pceSvn),
      field(PCK_OIDS.cpuSvn, parts.cpuSvn),
    ],
  });
}

function extensionOf(parts: Parts): Uint8Array {
  return new Uint8Array(
    new asn1.Sequence({
      value: [
        field(PCK_OIDS.ppid, parts.ppid),
        field(PCK_OIDS.tcb, tcbOf(parts)),
        field(PCK_OIDS.pceId, parts.pceId),
        field(PCK_OIDS.fmspc, parts.fmspc),
        field(PCK_OIDS.sgxType, parts.sgxType),
        ...parts.extra,
      ],
    }).toBER(),
  );
}

async function certificateWith(value: Uint8Array | undefined): Promise<X509Certificate> {
  return X509CertificateGenerator.createSelfSigned({
    name: "CN=Intel SGX PCK Certificate",
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams,
    extensions:
      value === undefined
        ? []
        : [new Extension(PCK_OIDS.sgxExtension, false, asBufferSource(value))],
  });
}

async function rejects(value: Uint8Array | undefined, field: string, message: RegExp) {
  const certificate = await certificateWith(value);
  assert.throws(
    () => readPckExtensions(certificate),
    (error) => {
      assert.ok(error instanceof ParseError, `${error}`);
      assert.equal(error.code, "dcap.pck.extension");
      assert.equal(error.field, field);
      assert.match(error.message, message);
      return true;
    },
  );
}

function changed(change: (parts: Parts) => void): Uint8Array {
  const parts = wellFormed();
  change(parts);
  return extensionOf(parts);
}

describe("readPckExtensions on built extensions", () => {
  test("a well-formed extension reads back, at the edges of each range", async () => {
    const platform = changed((p) => {
      p.extra = [
        field(PCK_OIDS.platformInstanceId, octets(16, 0x33)),
        field(
          PCK_OIDS.configuration,
          new asn1.Sequence({
            value: [
              field(PCK_OIDS.dynamicPlatform, new asn1.Boolean({ value: false })),
              field(PCK_OIDS.smtEnabled, new asn1.Boolean({ value: true })),
            ],
          }),
        ),
        // An OID Intel may add later is ignored.
        field(`${PCK_OIDS.sgxExtension}.99`, int(1)),
      ];
    });
    const pck = readPckExtensions(await certificateWith(platform));
    assert.equal(hex(pck.ppid), "11".repeat(16));
    assert.deepEqual(
      pck.cpuSvnComponents,
      [0, 1, 2, 3, 255, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    );
    assert.equal(hex(pck.cpuSvn), "22".repeat(16));
    assert.equal(pck.pceSvn, 0xffff);
    assert.equal(pck.pceId, "0001");
    assert.equal(pck.fmspc, "90c06f000000");
    assert.equal(pck.sgxType, "ScalableWithIntegrity");
    assert.equal(hex(pck.platformInstanceId as Uint8Array), "33".repeat(16));
    // Absent flags stay absent rather than reading as false.
    assert.deepEqual(pck.configuration, { dynamicPlatform: false, smtEnabled: true });
    const processor = readPckExtensions(await certificateWith(extensionOf(wellFormed())));
    assert.equal(processor.platformInstanceId, undefined);
    assert.equal(processor.configuration, undefined);
  });

  test("a certificate without the extension, or with it twice, is not a PCK certificate", async () => {
    await rejects(undefined, PCK_OIDS.sgxExtension, /lacks the SGX extension/);
    const value = extensionOf(wellFormed());
    const twice = await X509CertificateGenerator.createSelfSigned({
      name: "CN=Intel SGX PCK Certificate",
      keys,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams,
      extensions: [
        new Extension(PCK_OIDS.sgxExtension, false, asBufferSource(value)),
        new Extension(PCK_OIDS.sgxExtension, false, asBufferSource(value)),
      ],
    });
    assert.throws(() => readPckExtensions(twice), /appears more than once/);
  });

  test("a value that is not one DER SEQUENCE of (OID, value) pairs", async () => {
    const good = extensionOf(wellFormed());
    const trailing = new Uint8Array([...good, 0x00]);
    await rejects(trailing, PCK_OIDS.sgxExtension, /not one well-formed DER value/);
    await rejects(good.subarray(0, good.length - 1), PCK_OIDS.sgxExtension, /not one well-formed/);
    await rejects(new Uint8Array(int(1).toBER()), PCK_OIDS.sgxExtension, /not a SEQUENCE/);
    const badEntry = new asn1.Sequence({ value: [new asn1.Sequence({ value: [int(1), int(2)] })] });
    await rejects(new Uint8Array(badEntry.toBER()), PCK_OIDS.sgxExtension, /OBJECT IDENTIFIER/);
    const triple = new asn1.Sequence({
      value: [new asn1.Sequence({ value: [oid(PCK_OIDS.ppid), octets(16), int(1)] })],
    });
    await rejects(new Uint8Array(triple.toBER()), PCK_OIDS.sgxExtension, /one value/);
  });

  test("each required field missing is named by its OID", async () => {
    const without = (drop: string) => {
      const parts = wellFormed();
      const full = new asn1.Sequence({
        value: [
          field(PCK_OIDS.ppid, parts.ppid),
          field(PCK_OIDS.tcb, tcbOf(parts)),
          field(PCK_OIDS.pceId, parts.pceId),
          field(PCK_OIDS.fmspc, parts.fmspc),
          field(PCK_OIDS.sgxType, parts.sgxType),
        ].filter((f) => (f.valueBlock.value[0] as asn1.ObjectIdentifier).getValue() !== drop),
      });
      return new Uint8Array(full.toBER());
    };
    await rejects(without(PCK_OIDS.ppid), PCK_OIDS.ppid, /lacks the PPID field/);
    await rejects(without(PCK_OIDS.tcb), PCK_OIDS.tcb, /lacks the TCB field/);
    await rejects(without(PCK_OIDS.pceId), PCK_OIDS.pceId, /lacks the PCE-ID field/);
    await rejects(without(PCK_OIDS.fmspc), PCK_OIDS.fmspc, /lacks the FMSPC field/);
    await rejects(without(PCK_OIDS.sgxType), PCK_OIDS.sgxType, /lacks the SGX type field/);
    const fifteen = changed((p) => {
      p.components = p.components.slice(0, 15);
    });
    await rejects(fifteen, `${PCK_OIDS.tcb}.16`, /lacks the CPUSVN component 16 field/);
  });

  test("a field of the wrong type or size is named by its OID", async () => {
    await rejects(
      changed((p) => (p.ppid = octets(15))),
      PCK_OIDS.ppid,
      /15 bytes, not 16/,
    );
    await rejects(
      changed((p) => (p.fmspc = octets(7))),
      PCK_OIDS.fmspc,
      /7 bytes, not 6/,
    );
    await rejects(
      changed((p) => (p.pceId = int(0))),
      PCK_OIDS.pceId,
      /not an OCTET STRING/,
    );
    await rejects(
      changed((p) => (p.cpuSvn = octets(32))),
      PCK_OIDS.cpuSvn,
      /32 bytes, not 16/,
    );
    await rejects(
      changed((p) => (p.components[2] = int(256))),
      `${PCK_OIDS.tcb}.3`,
      /256 is outside 0\.\.255/,
    );
    await rejects(
      changed((p) => (p.components[0] = int(-1))),
      `${PCK_OIDS.tcb}.1`,
      /-1 is outside/,
    );
    await rejects(
      changed((p) => (p.components[0] = new asn1.Enumerated({ value: 1 }))),
      `${PCK_OIDS.tcb}.1`,
      /not an INTEGER/,
    );
    await rejects(
      changed((p) => (p.pceSvn = int(0x10000))),
      PCK_OIDS.pceSvn,
      /outside 0\.\.65535/,
    );
    await rejects(
      changed((p) => (p.sgxType = int(1))),
      PCK_OIDS.sgxType,
      /not an ENUMERATED/,
    );
    await rejects(
      changed((p) => (p.sgxType = new asn1.Enumerated({ value: 3 }))),
      PCK_OIDS.sgxType,
      /none of 0, 1 and 2/,
    );
    await rejects(
      changed((p) => (p.extra = [field(PCK_OIDS.platformInstanceId, octets(8))])),
      PCK_OIDS.platformInstanceId,
      /8 bytes, not 16/,
    );
    await rejects(
      changed(
        (p) =>
          (p.extra = [
            field(
              PCK_OIDS.configuration,
              new asn1.Sequence({ value: [field(PCK_OIDS.cachedKeys, int(1))] }),
            ),
          ]),
      ),
      PCK_OIDS.cachedKeys,
      /not a BOOLEAN/,
    );
  });

  test("a field that appears twice is ambiguous", async () => {
    await rejects(
      changed((p) => (p.extra = [field(PCK_OIDS.fmspc, octets(6))])),
      PCK_OIDS.fmspc,
      /appears more than once/,
    );
  });
});
