import "../../../src/attest/pki/x509.js";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { Extension, X509CertificateGenerator } from "@peculiar/x509";
import { IA5String, Integer, OctetString, Utf8String } from "asn1js";
import { fingerprint, parseCertificates } from "../../../src/attest/pki/certificates.js";
import type { X509Certificate } from "../../../src/attest/pki/x509.js";
import { verifySigningChain } from "../../../src/attest/snp/chain.js";
import { readSigningCert, VCEK_OIDS } from "../../../src/attest/snp/vcek.js";
import { VerificationError } from "../../../src/attest/verifier.js";
import { fromHex, toHex } from "../../../src/bytes.js";
import { ParseError } from "../../../src/errors.js";
import { TESTVECTORS, VECTOR_INDEX, vectorEntry } from "../../support/testvectors.js";

function loadOne(path: string): X509Certificate {
  const [certificate] = parseCertificates(new Uint8Array(readFileSync(TESTVECTORS + path)), path);
  assert.ok(certificate);
  return certificate;
}

const HWID_0_TO_3F = toHex(Uint8Array.from({ length: 64 }, (_, i) => i));

describe("VCEK/VLEK extensions of the vectors", () => {
  test("virtee-turin-vcek parses to the index's values (8-byte hwID, fmcSPL)", () => {
    const vector = vectorEntry("snp/virtee-turin-vcek");
    const parsed = vector.parsed as Record<string, number | string>;
    const info = readSigningCert(loadOne(vector.files.vcek as string));
    assert.equal(info.kind, "vcek");
    assert.equal(info.product, parsed.product);
    assert.equal(info.productName, "Turin");
    const hwid = /^([0-9a-f]+) \((\d+) bytes\)$/.exec(parsed.hwid as string);
    assert.ok(hwid);
    assert.equal(toHex(info.hwid as Uint8Array), hwid[1]);
    assert.equal(info.hwid?.length, Number(hwid[2]));
    assert.equal(info.hwidEncoding, "raw");
    assert.deepEqual(info.tcb, {
      bootloader: parsed.blSPL,
      tee: parsed.teeSPL,
      snp: parsed.snpSPL,
      microcode: parsed.ucodeSPL,
      fmc: parsed.fmcSPL,
    });
  });

  test("trustee-vcek-ext-encodings: the raw and the OCTET STRING hwID both parse", async () => {
    const vector = vectorEntry("snp/trustee-vcek-ext-encodings");
    const parsed = vector.parsed as Record<string, Record<string, string | number>>;
    for (const [name, encoding] of [
      ["legacy", "raw"],
      ["new", "octet-string"],
    ] as const) {
      const expected = parsed[name] as Record<string, string | number>;
      assert.ok(
        String(expected.hwid_encoding).startsWith(encoding === "raw" ? "raw" : "DER OCTET"),
      );
      assert.equal(expected.hwid, "000102...3f");
      const certificate = loadOne(vector.files[name] as string);
      const info = readSigningCert(certificate);
      assert.equal(info.hwidEncoding, encoding);
      assert.equal(toHex(info.hwid as Uint8Array), HWID_0_TO_3F);
      assert.equal(info.product, "Milan");
      assert.deepEqual(info.tcb, {
        bootloader: expected.bl,
        tee: expected.tee,
        snp: expected.snp,
        microcode: expected.ucode,
      });
      // The hwID was replaced after AMD signed: the chain must not verify.
      await assert.rejects(
        verifySigningChain(certificate, info, [], new Date(certificate.notBefore.getTime() + 1)),
        (error) =>
          error instanceof VerificationError && error.code === "snp.chain.signer_signature",
      );
    }
  });

  /** README section 2, step 3: the VCEK's TCB equals REPORTED_TCB and its hwID the CHIP_ID. */
  const withReport = VECTOR_INDEX.filter(
    (e) =>
      e.tee?.startsWith("sev-snp") &&
      e.parsed?.reported_tcb_parts !== undefined &&
      ["vcek", "vcek (derived)", "vlek"].some((key) => key in e.files),
  );
  test("the index has report vectors to compare against", () => {
    assert.ok(withReport.length >= 12, `${withReport.length}`);
  });
  for (const vector of withReport) {
    test(`${vector.id}: the certified TCB and identity match the report's`, () => {
      const parsed = vector.parsed as Record<string, unknown>;
      const key = ["vcek", "vcek (derived)", "vlek"].find((k) => k in vector.files) as string;
      const info = readSigningCert(loadOne(vector.files[key] as string));
      const parts = parsed.reported_tcb_parts as Record<string, number>;
      assert.deepEqual(info.tcb, {
        bootloader: parts.bl,
        tee: parts.tee,
        snp: parts.snp,
        microcode: parts.ucode,
        ...(parts.fmc === undefined ? {} : { fmc: parts.fmc }),
      });
      const chipId = parsed.chip_id as string;
      if (key === "vlek") {
        assert.equal(info.kind, "vlek");
        assert.equal(info.hwid, undefined);
        assert.equal(info.cspId, "CN=cc-us-east-2.amazonaws.com");
        assert.equal(chipId, "00".repeat(64));
      } else {
        assert.equal(info.kind, "vcek");
        assert.equal(info.cspId, undefined);
        const hwid = toHex(info.hwid as Uint8Array);
        assert.equal(hwid.length, info.product === "Turin" ? 16 : 128);
        assert.ok(chipId.startsWith(hwid));
        assert.equal(chipId.slice(hwid.length), "0".repeat(128 - hwid.length));
      }
    });
  }
});

describe("malformed VCEK extensions are refused by OID", () => {
  const keys = crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, false, [
    "sign",
    "verify",
  ]);
  const der = (value: { toBER(): ArrayBuffer }) => new Uint8Array(value.toBER());
  const milan: Record<string, Uint8Array> = {
    [VCEK_OIDS.productName]: der(new IA5String({ value: "Milan-B0" })),
    [VCEK_OIDS.blSPL]: der(new Integer({ value: 3 })),
    [VCEK_OIDS.teeSPL]: der(new Integer({ value: 0 })),
    [VCEK_OIDS.snpSPL]: der(new Integer({ value: 8 })),
    [VCEK_OIDS.ucodeSPL]: der(new Integer({ value: 115 })),
    [VCEK_OIDS.hwID]: new Uint8Array(64).fill(7),
  };

  async function certificate(
    extensions: Record<string, Uint8Array | undefined>,
    cn = "SEV-VCEK",
    duplicate?: string,
  ): Promise<X509Certificate> {
    const list = Object.entries(extensions).flatMap(([oid, value]) =>
      value === undefined ? [] : [new Extension(oid, false, new Uint8Array(value))],
    );
    if (duplicate)
      list.push(
        new Extension(duplicate, false, new Uint8Array(extensions[duplicate] as Uint8Array)),
      );
    const built = await X509CertificateGenerator.createSelfSigned({
      name: `O=Advanced Micro Devices, CN=${cn}`,
      keys: await keys,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-384" } as Algorithm,
      extensions: list,
    });
    // Through the parser, as a real VCEK would arrive.
    const [parsed] = parseCertificates(new Uint8Array(built.rawData), "test VCEK");
    assert.ok(parsed);
    return parsed;
  }

  function refuses(cert: X509Certificate, code: string, field: string, message?: RegExp): void {
    assert.throws(
      () => readSigningCert(cert),
      (error) => {
        assert.ok(error instanceof ParseError, `${error}`);
        assert.equal(error.code, code);
        assert.equal(error.field, field);
        if (message) assert.match(error.message, message);
        return true;
      },
    );
  }

  test("the well-formed baseline parses", async () => {
    const cert = await certificate(milan);
    const info = readSigningCert(cert);
    assert.deepEqual(info.tcb, { bootloader: 3, tee: 0, snp: 8, microcode: 115 });
    assert.equal(info.productName, "Milan-B0");
    assert.equal(info.product, "Milan");
    assert.equal(toHex(info.hwid as Uint8Array), "07".repeat(64));
  });

  for (const [name, oid] of [
    ["blSPL", VCEK_OIDS.blSPL],
    ["teeSPL", VCEK_OIDS.teeSPL],
    ["snpSPL", VCEK_OIDS.snpSPL],
    ["ucodeSPL", VCEK_OIDS.ucodeSPL],
    ["productName", VCEK_OIDS.productName],
    ["hwID", VCEK_OIDS.hwID],
  ] as const) {
    test(`a VCEK without ${name} is refused`, async () => {
      const cert = await certificate({ ...milan, [oid]: undefined });
      refuses(cert, "snp.vcek.extension", oid, new RegExp(`lacks the ${name} extension`));
    });
  }

  test("an SPL outside 0..255, or not an INTEGER, is refused", async () => {
    for (const value of [
      der(new Integer({ value: 256 })),
      der(new Integer({ value: -1 })),
      der(new IA5String({ value: "3" })),
      new Uint8Array([0x02, 0x01]),
      new Uint8Array([0x02, 0x01, 0x03, 0x00]),
    ]) {
      refuses(
        await certificate({ ...milan, [VCEK_OIDS.snpSPL]: value }),
        "snp.vcek.extension",
        VCEK_OIDS.snpSPL,
      );
    }
  });

  test("a product name that is not a printable IA5String is refused", async () => {
    for (const value of [
      der(new Utf8String({ value: "Milan" })),
      der(new IA5String({ value: "" })),
    ]) {
      refuses(
        await certificate({ ...milan, [VCEK_OIDS.productName]: value }),
        "snp.vcek.extension",
        VCEK_OIDS.productName,
      );
    }
  });

  test("an unknown product family parses with product undefined", async () => {
    const info = readSigningCert(
      await certificate({
        ...milan,
        [VCEK_OIDS.productName]: der(new IA5String({ value: "Venice-A0" })),
      }),
    );
    assert.equal(info.productName, "Venice-A0");
    assert.equal(info.product, undefined);
  });

  test("a hwID of the wrong length for the product is refused", async () => {
    const wrapped = (bytes: Uint8Array) => der(new OctetString({ valueHex: bytes }));
    for (const value of [
      new Uint8Array(63),
      new Uint8Array(8),
      wrapped(new Uint8Array(8)),
      new Uint8Array(0),
    ]) {
      refuses(
        await certificate({ ...milan, [VCEK_OIDS.hwID]: value }),
        "snp.vcek.extension",
        VCEK_OIDS.hwID,
        /hwID has \d+ bytes; a Milan chip ID has 64/,
      );
    }
    // The OCTET STRING form with 64 bytes inside is accepted.
    const info = readSigningCert(
      await certificate({ ...milan, [VCEK_OIDS.hwID]: wrapped(new Uint8Array(64).fill(9)) }),
    );
    assert.equal(info.hwidEncoding, "octet-string");
    assert.equal(toHex(info.hwid as Uint8Array), "09".repeat(64));
  });

  test("a Turin VCEK needs an 8-byte hwID and fmcSPL", async () => {
    const turin = {
      ...milan,
      [VCEK_OIDS.productName]: der(new IA5String({ value: "Turin" })),
      [VCEK_OIDS.hwID]: fromHex("0102030405060708") as Uint8Array,
    };
    refuses(await certificate(turin), "snp.vcek.extension", VCEK_OIDS.fmcSPL, /fmcSPL/);
    const withFmc = { ...turin, [VCEK_OIDS.fmcSPL]: der(new Integer({ value: 1 })) };
    const info = readSigningCert(await certificate(withFmc));
    assert.equal(info.tcb.fmc, 1);
    assert.equal(toHex(info.hwid as Uint8Array), "0102030405060708");
    refuses(
      await certificate({ ...withFmc, [VCEK_OIDS.hwID]: new Uint8Array(64) }),
      "snp.vcek.extension",
      VCEK_OIDS.hwID,
    );
  });

  test("a VLEK needs a cspId and carries no hwID", async () => {
    const vlek = { ...milan, [VCEK_OIDS.hwID]: undefined };
    refuses(await certificate(vlek, "SEV-VLEK"), "snp.vcek.extension", VCEK_OIDS.cspId, /cspId/);
    const info = readSigningCert(
      await certificate(
        { ...vlek, [VCEK_OIDS.cspId]: der(new IA5String({ value: "cc-example.test" })) },
        "SEV-VLEK",
      ),
    );
    assert.equal(info.kind, "vlek");
    assert.equal(info.cspId, "cc-example.test");
    assert.equal("hwid" in info, false);
  });

  test("a duplicated extension is refused", async () => {
    refuses(
      await certificate(milan, "SEV-VCEK", VCEK_OIDS.snpSPL),
      "snp.vcek.extension",
      VCEK_OIDS.snpSPL,
      /more than once/,
    );
  });

  test("a certificate not named SEV-VCEK or SEV-VLEK is refused", async () => {
    refuses(await certificate(milan, "SEV-Milan"), "snp.vcek.kind", "subject", /"SEV-Milan"/);
  });
});

describe("certificate loading", () => {
  const vcekPath = "sev-snp/go-sev-guest-milan/vcek.der";
  const der = new Uint8Array(readFileSync(TESTVECTORS + vcekPath));
  const pem = readFileSync(`${TESTVECTORS}sev-snp/amd-roots/milan_ask_ark.pem`, "utf8");

  function malformed(input: Uint8Array | string, message?: RegExp): void {
    assert.throws(
      () => parseCertificates(input, "the test input"),
      (error) => {
        assert.ok(error instanceof ParseError, `${error}`);
        assert.equal(error.code, "certificate.malformed");
        assert.match(error.field, /^the test input/);
        if (message) assert.match(error.message, message);
        return true;
      },
    );
  }

  test("DER, PEM text, PEM bytes and PEM with text between blocks all load", () => {
    assert.equal(parseCertificates(der, "der").length, 1);
    const fromText = parseCertificates(pem, "pem");
    assert.deepEqual(
      fromText.map((c) => c.subject.replace(/.*CN=/, "")),
      ["SEV-Milan", "ARK-Milan"],
    );
    assert.equal(parseCertificates(new TextEncoder().encode(pem), "pem bytes").length, 2);
    const chatty = `Chain for Milan\n${pem.replace("-----END CERTIFICATE-----\n", "-----END CERTIFICATE-----\nnext:\n")}\n\0`;
    const loaded = parseCertificates(chatty, "chatty");
    assert.deepEqual(loaded.map(fingerprint), fromText.map(fingerprint));
  });

  test("garbage is refused naming the source", () => {
    malformed(new Uint8Array([0xff, 0xfe, 0x00, 0x80]), /^the test input: is neither DER/);
    malformed("hello", /holds neither a DER certificate nor a PEM CERTIFICATE block/);
    malformed(new Uint8Array(0));
    malformed(der.subarray(0, 100), /declares 1360 bytes of DER but holds 100/);
    malformed(new Uint8Array([...der, 0]), /declares 1360 bytes of DER but holds 1361/);
    malformed(
      new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]),
      /not a well-formed X.509 certificate/,
    );
    malformed(
      "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----",
      /PEM block 1.*base64/,
    );
    malformed("-----BEGIN CERTIFICATE-----\nMIIB", /has no "-----END CERTIFICATE-----" line/);
  });
});
