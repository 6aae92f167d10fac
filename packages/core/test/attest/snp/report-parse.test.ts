import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { describe, test } from "node:test";
import {
  CERT_GUIDS,
  type CertTableInput,
  encodeCertTable,
  parseCertTable,
} from "../../../src/attest/snp/abi/cert-table.js";
import {
  decodeGuestPolicy,
  decodeKeyInfo,
  decodePlatformInfo,
} from "../../../src/attest/snp/abi/fields.js";
import { productOf } from "../../../src/attest/snp/abi/product.js";
import { parseReport, REPORT_SIZE, SIGNED_LENGTH } from "../../../src/attest/snp/abi/report.js";
import { decodeTcb, encodeTcb, formatTcb, tcbLayoutOf } from "../../../src/attest/snp/abi/tcb.js";
import type { SnpReport, TcbVersion } from "../../../src/attest/snp/abi/types.js";
import { fromHex, toHex } from "../../../src/bytes.js";
import { ParseError } from "../../../src/errors.js";
import {
  TESTVECTORS,
  VECTOR_INDEX,
  type VectorEntry,
  vectorEntry,
} from "../../support/testvectors.js";

const snpEntries = VECTOR_INDEX.filter((e) => e.tee?.startsWith("sev-snp"));

/** How each index file key holds a bare 1184-byte report. Evidence JSON shapes are parsed elsewhere. */
const REPORT_FILES: Record<string, (file: Uint8Array) => Uint8Array> = {
  report: (file) => file,
  "report (derived)": (file) => file,
  report_hex: (file) => {
    const bytes = fromHex(new TextDecoder().decode(file).replace(/\s+/g, ""));
    assert.ok(bytes, "report_hex is not hex");
    return bytes;
  },
  // An Azure HCL report: a 32-byte header, then the SNP report.
  hcl_report: (file) => file.subarray(0x20, 0x20 + REPORT_SIZE),
};

interface Vector {
  name: string;
  entry: VectorEntry;
  bytes: Uint8Array;
  /** The `parsed` object for this file: the entry's own, or the one keyed by the file's name. */
  expected: Record<string, unknown>;
}

const vectors: Vector[] = snpEntries.flatMap((entry) =>
  Object.entries(entry.files).flatMap(([key, path]) => {
    const extract = REPORT_FILES[key];
    if (extract === undefined) return [];
    const parsed = entry.parsed ?? {};
    const own = parsed[basename(path)];
    return [
      {
        name: `${entry.id} ${path}`,
        entry,
        bytes: extract(new Uint8Array(readFileSync(`${TESTVECTORS}${path}`))),
        expected: (typeof own === "object" && own !== null ? own : parsed) as Record<
          string,
          unknown
        >,
      },
    ];
  }),
);

const vector = (id: string): Vector => {
  const found = vectors.find((v) => v.entry.id === id);
  assert.ok(found, `no report vector ${id}`);
  return found;
};

const hex0x = (value: bigint | number) => `0x${value.toString(16)}`;

function tcbParts(tcb: TcbVersion): Record<string, number> {
  return {
    bl: tcb.bootloader,
    tee: tcb.tee,
    snp: tcb.snp,
    ucode: tcb.microcode,
    ...(tcb.fmc === undefined ? {} : { fmc: tcb.fmc }),
  };
}

/** index.json `parsed` key -> the same value read from an SnpReport, in the index's notation. */
const PARSED: Record<string, (r: SnpReport) => unknown> = {
  version: (r) => r.version,
  policy: (r) => hex0x(r.policy.raw),
  vmpl: (r) => r.vmpl,
  reported_tcb: (r) => `0x${r.reportedTcb.raw.toString(16).padStart(16, "0")}`,
  reported_tcb_parts: (r) => tcbParts(r.reportedTcb),
  // Version 2 has no CPUID; the index writes the reserved zeros there.
  cpuid: (r) =>
    r.cpuid === undefined
      ? ["0x0", "0x0", "0x0"]
      : [r.cpuid.family, r.cpuid.model, r.cpuid.stepping].map(hex0x),
  measurement: (r) => toHex(r.measurement),
  report_data: (r) => toHex(r.reportData),
  host_data: (r) => toHex(r.hostData),
  chip_id: (r) => toHex(r.chipId),
  key_info: (r) => hex0x(r.keyInfo.raw),
};

/** Source-assert key -> the report bytes it speaks about. */
const ASSERTED_BYTES: Record<string, (r: SnpReport) => Uint8Array> = {
  chip_id: (r) => r.chipId,
  measurement: (r) => r.measurement,
  report_data: (r) => r.reportData,
  report_id: (r) => r.reportId,
  report_id_ma: (r) => r.reportIdMa,
  host_data: (r) => r.hostData,
  family_id: (r) => r.familyId,
  image_id: (r) => r.imageId,
};

/**
 * The prose forms the sources' assertions take in index.json: "ff*32", exact hex, "HEX followed
 * by N zero bytes", 'ASCII "..." zero-padded to N bytes', "non-zero (HEX ...)", "HEX (source)".
 */
function assertBytesClaim(actual: Uint8Array, claim: string, what: string): void {
  const repeat = /^([0-9a-f]{2})\*(\d+)$/.exec(claim);
  if (repeat) {
    const expected = new Uint8Array(Number(repeat[2])).fill(
      Number.parseInt(repeat[1] as string, 16),
    );
    assert.equal(toHex(actual), toHex(expected), what);
    return;
  }
  const followed = /^([0-9a-f]+) followed by (\d+) zero bytes$/.exec(claim);
  if (followed) {
    assert.equal(toHex(actual), (followed[1] as string) + "00".repeat(Number(followed[2])), what);
    return;
  }
  const ascii = /^ASCII "(.*)" zero-padded to (\d+) bytes$/.exec(claim);
  if (ascii) {
    const expected = new Uint8Array(Number(ascii[2]));
    expected.set(new TextEncoder().encode(ascii[1] as string));
    assert.equal(toHex(actual), toHex(expected), what);
    return;
  }
  let matched = false;
  if (claim.startsWith("non-zero")) {
    assert.ok(
      actual.some((b) => b !== 0),
      `${what} is all zero`,
    );
    matched = true;
  }
  const exact = new RegExp(`(?:^|[^0-9a-f])([0-9a-f]{${actual.length * 2}})(?:$|[^0-9a-f])`).exec(
    claim,
  );
  if (exact) {
    assert.equal(toHex(actual), exact[1], what);
    matched = true;
  }
  assert.ok(matched, `${what}: no mapping for the source assertion ${JSON.stringify(claim)}`);
}

/** Applies the source assertions this parser can check; returns the keys it checked. */
function checkSourceAsserts(report: SnpReport, asserts: Record<string, unknown>): string[] {
  const checked: string[] = [];
  for (const [key, claim] of Object.entries(asserts)) {
    const bytesOf = ASSERTED_BYTES[key];
    if (bytesOf !== undefined && typeof claim === "string") {
      assertBytesClaim(bytesOf(report), claim, key);
    } else if (key === "vmpl") {
      assert.equal(report.vmpl, claim, key);
    } else if (key === "platform_info") {
      assert.equal(Number(report.platformInfo.raw), claim, key);
    } else if (key === "firmware_version") {
      const m = /^(\d+)\.(\d+) \(build (\d+)\)$/.exec(String(claim));
      assert.ok(m, `unmapped firmware_version ${String(claim)}`);
      const { major, minor, build } = report.currentVersion;
      assert.deepEqual([major, minor, build], [Number(m[1]), Number(m[2]), Number(m[3])], key);
    } else if (key === "minimum_tcb") {
      const m = /^(\d+)/.exec(String(claim));
      assert.ok(m, `unmapped minimum_tcb ${String(claim)}`);
      const minimum = decodeTcb(BigInt(m[1] as string), report.tcbLayout);
      for (const part of ["bootloader", "tee", "snp", "microcode"] as const) {
        assert.ok(report.reportedTcb[part] >= minimum[part], `${key}: ${part}`);
      }
    } else if (key === "product") {
      // A version 2 report carries no CPUID, so it cannot name its product.
      if (report.cpuid === undefined) assert.equal(report.product, undefined);
      else assert.ok(String(claim).startsWith(report.product ?? "?"), key);
    } else {
      continue;
    }
    checked.push(key);
  }
  return checked;
}

describe("every SEV-SNP report in index.json", () => {
  test("the index holds the reports the README lists", () => {
    // 12 bare reports, the virtee hex report and the Azure HCL report.
    assert.ok(vectors.length >= 14, `only ${vectors.length} report vectors found`);
  });

  for (const v of vectors) {
    test(v.name, () => {
      const report = parseReport(v.bytes);
      const keys = Object.keys(v.expected);
      assert.ok(keys.length > 0, "the index has no parsed values for this report");
      for (const key of keys) {
        const read = PARSED[key];
        assert.ok(read, `no mapping for parsed key ${key}`);
        assert.deepEqual(read(report), v.expected[key], key);
      }
      if (v.entry.source_asserts !== undefined) {
        const checked = checkSourceAsserts(report, v.entry.source_asserts);
        // Azure's assertions are about its evidence JSON and TPM quote, parsed elsewhere.
        if (v.entry.tee === "sev-snp") {
          assert.deepEqual(checked, Object.keys(v.entry.source_asserts), "unmapped source asserts");
        }
      }

      assert.equal(report.bytes.length, REPORT_SIZE);
      assert.deepEqual(report.signedBytes, v.bytes.subarray(0, SIGNED_LENGTH));
      assert.equal(report.signatureAlgorithm, 1);
      assert.equal(report.signature.r.length, 48);
      assert.equal(report.signature.s.length, 48);
      // Big-endian out, little-endian in.
      assert.equal(report.signature.r[47], v.bytes[SIGNED_LENGTH]);
      assert.equal(report.signature.r[0], v.bytes[SIGNED_LENGTH + 47]);
      assert.equal(report.signature.s[47], v.bytes[SIGNED_LENGTH + 72]);
      assert.equal(report.tcbLayout, tcbLayoutOf(report.cpuid));
      assert.equal(report.version >= 5, report.launchMitigationVector !== undefined);
      assert.equal(report.version >= 5, report.currentMitigationVector !== undefined);
      assert.ok(report.policy.raw & (1n << 17n));
    });
  }
});

describe("report fields", () => {
  test("version 2 has no CPUID and uses the Milan/Genoa TCB layout", () => {
    const v2 = vectors.filter((v) => v.expected.version === 2);
    assert.ok(v2.length >= 3);
    for (const v of v2) {
      const r = parseReport(v.bytes);
      assert.equal(r.cpuid, undefined);
      assert.equal(r.product, undefined);
      assert.equal(r.tcbLayout, "milan-genoa");
      assert.equal(r.reportedTcb.fmc, undefined);
    }
  });

  test("the Turin report decodes every TCB with the Turin layout", () => {
    const r = parseReport(vector("snp/oak-turin-oc").bytes);
    assert.equal(r.tcbLayout, "turin");
    assert.equal(r.product, "Turin");
    assert.deepEqual(r.cpuid, { family: 0x1a, model: 0x02, stepping: 0x01 });
    for (const tcb of [r.currentTcb, r.reportedTcb, r.committedTcb, r.launchTcb]) {
      assert.equal(typeof tcb.fmc, "number");
    }
    assert.equal(formatTcb(r.reportedTcb), "bl 1, tee 0, snp 2, ucode 71, fmc 0");
  });

  test("products come from CPUID: Milan, Genoa (incl. 19h/A0h), Turin", () => {
    const products = Object.fromEntries(
      vectors
        .filter((v) => v.expected.version !== 2)
        .map((v) => [v.entry.id, parseReport(v.bytes).product]),
    );
    assert.equal(products["snp/oak-milan-cb"], "Milan");
    assert.equal(products["snp/trustee-milan-vlek-aws"], "Milan");
    assert.equal(products["snp/oak-genoa-oc"], "Genoa");
    assert.equal(products["snp/trustee-genoa-e2e"], "Genoa");
    assert.equal(products["snp/oak-turin-oc"], "Turin");
  });

  test("go-sev-guest: guest policy 0xb0000 is {debug, SMT}, firmware 1.49 build 3", () => {
    const r = parseReport(vector("snp/go-sev-guest-milan").bytes);
    assert.deepEqual(r.policy, {
      abiMinor: 0,
      abiMajor: 0,
      smt: true,
      migrateMa: false,
      debug: true,
      singleSocket: false,
      cxlAllow: false,
      memAes256Xts: false,
      raplDis: false,
      ciphertextHiding: false,
      pageSwapDisable: false,
      raw: 0xb0000n,
    });
    assert.deepEqual(r.currentVersion, { major: 1, minor: 49, build: 3 });
    assert.equal(r.keyInfo.signingKey, "vcek");
    assert.equal(r.platformInfo.smtEnabled, true);
    assert.equal(r.platformInfo.tsmeEnabled, false);
  });

  test("the AWS report is VLEK-signed at VMPL 1 with a masked CHIP_ID", () => {
    const r = parseReport(vector("snp/trustee-milan-vlek-aws").bytes);
    assert.equal(r.keyInfo.signingKey, "vlek");
    assert.equal(r.vmpl, 1);
    assert.ok(r.chipId.every((b) => b === 0));
  });

  test("the parsed report is a private copy of the input", () => {
    const input = vector("snp/oak-genoa-oc").bytes.slice();
    const r = parseReport(input);
    const measurement = toHex(r.measurement);
    input.fill(0);
    assert.equal(toHex(r.measurement), measurement);
    assert.notEqual(r.bytes[0], 0);
    assert.equal(r.signedBytes.buffer, r.bytes.buffer);
  });

  test("reserved regions may be non-zero", () => {
    const bytes = vector("snp/oak-milan-cb").bytes.slice();
    bytes[0x4c] = 0xaa; // reserved after KEY_INFO
    bytes[0x190] = 0xbb; // reserved after CPUID
    bytes[0x49f] = 0xcc; // reserved after the signature
    assert.equal(parseReport(bytes).version, 3);
  });

  test("version 4 is read with the version 3 layout", () => {
    const bytes = vector("snp/oak-genoa-oc").bytes.slice();
    new DataView(bytes.buffer).setUint32(0, 4, true);
    const r = parseReport(bytes);
    assert.equal(r.version, 4);
    assert.equal(r.product, "Genoa");
    assert.equal(r.launchMitigationVector, undefined);
  });
});

describe("malformed reports are ParseErrors naming the field and offset", () => {
  const base = vector("snp/oak-genoa-oc").bytes;
  const mutated = (edit: (bytes: Uint8Array, view: DataView) => void): Uint8Array => {
    const bytes = base.slice();
    edit(bytes, new DataView(bytes.buffer));
    return bytes;
  };
  const cases: [string, Uint8Array, string, string, number][] = [
    ["empty", new Uint8Array(0), "snp.report.length", "report", 0],
    ["one byte short", base.subarray(0, REPORT_SIZE - 1), "snp.report.length", "report", 1183],
    ["one byte long", new Uint8Array(REPORT_SIZE + 1), "snp.report.length", "report", REPORT_SIZE],
    ["an extended report", new Uint8Array(4000), "snp.report.length", "report", REPORT_SIZE],
    ...[0, 1, 6, 0xffffffff].map((version): [string, Uint8Array, string, string, number] => [
      `version ${version}`,
      mutated((_, view) => view.setUint32(0, version, true)),
      "snp.report.version",
      "version",
      0,
    ]),
    [
      "signature algorithm 2",
      mutated((_, view) => view.setUint32(0x34, 2, true)),
      "snp.report.signature_algo",
      "signature_algo",
      0x34,
    ],
    [
      "vmpl 4",
      mutated((_, view) => view.setUint32(0x30, 4, true)),
      "snp.report.vmpl",
      "vmpl",
      0x30,
    ],
    [
      "policy bit 17 clear",
      mutated((bytes) => {
        bytes[0x0a] = (bytes[0x0a] as number) & ~0x02;
      }),
      "snp.report.policy",
      "policy",
      0x08,
    ],
    [
      "signing key 2",
      mutated((_, view) => view.setUint32(0x48, 2 << 2, true)),
      "snp.report.key_info",
      "key_info",
      0x48,
    ],
    [
      "R padding non-zero",
      mutated((bytes) => {
        bytes[0x2a0 + 48 + 5] = 1;
      }),
      "snp.report.signature_encoding",
      "signature.r",
      0x2a0 + 48 + 5,
    ],
    [
      "S padding non-zero",
      mutated((bytes) => {
        bytes[0x2a0 + 72 + 71] = 0x80;
      }),
      "snp.report.signature_encoding",
      "signature.s",
      0x2a0 + 72 + 71,
    ],
  ];
  for (const [name, bytes, code, field, offset] of cases) {
    test(name, () => {
      assert.throws(
        () => parseReport(bytes),
        (error: unknown) => {
          assert.ok(error instanceof ParseError, String(error));
          assert.equal(error.code, code);
          assert.equal(error.field, field);
          assert.equal(error.offset, offset);
          return true;
        },
      );
    });
  }
});

describe("TCB versions", () => {
  test("Milan/Genoa and Turin layouts", () => {
    const milan = decodeTcb(0x4405000000000002n, "milan-genoa");
    assert.deepEqual(milan, {
      bootloader: 2,
      tee: 0,
      snp: 5,
      microcode: 68,
      raw: 0x4405000000000002n,
    });
    assert.equal(formatTcb(milan), "bl 2, tee 0, snp 5, ucode 68");
    const turin = decodeTcb(0x4700000002000100n, "turin");
    assert.deepEqual(turin, {
      bootloader: 1,
      tee: 0,
      snp: 2,
      microcode: 71,
      fmc: 0,
      raw: 0x4700000002000100n,
    });
    // The same bits read with the wrong layout give different levels: the layout matters.
    assert.notDeepEqual(tcbParts(decodeTcb(0x4700000002000100n, "milan-genoa")), tcbParts(turin));
  });

  test("encodeTcb inverts decodeTcb", () => {
    for (const v of vectors) {
      const r = parseReport(v.bytes);
      for (const tcb of [r.currentTcb, r.reportedTcb, r.committedTcb, r.launchTcb]) {
        assert.equal(encodeTcb(tcb, r.tcbLayout), tcb.raw);
      }
    }
    assert.equal(
      encodeTcb({ bootloader: 1, tee: 0, snp: 2, microcode: 71, fmc: 5 }, "turin"),
      0x4700000002000105n,
    );
    assert.throws(() => encodeTcb({ bootloader: 256, tee: 0, snp: 0, microcode: 0 }, "turin"));
    assert.throws(() =>
      encodeTcb({ bootloader: 0, tee: 0, snp: 0, microcode: 0, fmc: 1 }, "milan-genoa"),
    );
  });

  test("layout and product from CPUID", () => {
    assert.equal(tcbLayoutOf(undefined), "milan-genoa");
    assert.equal(tcbLayoutOf({ family: 0x19, model: 0x11, stepping: 1 }), "milan-genoa");
    assert.equal(tcbLayoutOf({ family: 0x1a, model: 0x02, stepping: 1 }), "turin");
    const product = (family: number, model: number) => productOf({ family, model, stepping: 0 });
    assert.equal(product(0x19, 0x00), "Milan");
    assert.equal(product(0x19, 0x0f), "Milan");
    assert.equal(product(0x19, 0x10), "Genoa");
    assert.equal(product(0x19, 0x1f), "Genoa");
    assert.equal(product(0x19, 0xa0), "Genoa");
    assert.equal(product(0x19, 0xaf), "Genoa");
    assert.equal(product(0x19, 0x20), undefined);
    assert.equal(product(0x1a, 0x00), "Turin");
    assert.equal(product(0x1a, 0x11), "Turin");
    assert.equal(product(0x1a, 0x12), undefined);
    assert.equal(product(0x17, 0x01), undefined);
  });
});

describe("flag words", () => {
  test("each named bit lands in its own field", () => {
    const policyBits: [number, string][] = [
      [16, "smt"],
      [18, "migrateMa"],
      [19, "debug"],
      [20, "singleSocket"],
      [21, "cxlAllow"],
      [22, "memAes256Xts"],
      [23, "raplDis"],
      [24, "ciphertextHiding"],
      [25, "pageSwapDisable"],
    ];
    for (const [bit, name] of policyBits) {
      const decoded = decodeGuestPolicy(1n << BigInt(bit)) as unknown as Record<string, unknown>;
      for (const [, other] of policyBits)
        assert.equal(decoded[other], other === name, `${bit} ${other}`);
    }
    assert.deepEqual(
      [decodeGuestPolicy(0x1234n).abiMajor, decodeGuestPolicy(0x1234n).abiMinor],
      [0x12, 0x34],
    );
    const platformBits: [number, string][] = [
      [0, "smtEnabled"],
      [1, "tsmeEnabled"],
      [2, "eccEnabled"],
      [3, "raplDisabled"],
      [4, "ciphertextHidingEnabled"],
      [5, "aliasCheckComplete"],
      [7, "tioEnabled"],
    ];
    for (const [bit, name] of platformBits) {
      const decoded = decodePlatformInfo(1n << BigInt(bit)) as unknown as Record<string, unknown>;
      for (const [, other] of platformBits)
        assert.equal(decoded[other], other === name, `${bit} ${other}`);
    }
    assert.deepEqual(decodeKeyInfo(0b00111), {
      authorKeyEn: true,
      maskChipKey: true,
      signingKey: "vlek",
      raw: 7,
    });
    assert.equal(decodeKeyInfo(7 << 2)?.signingKey, "none");
    for (const invalid of [2, 3, 4, 5, 6]) assert.equal(decodeKeyInfo(invalid << 2), undefined);
  });
});

describe("certificate table", () => {
  const der = (path: string) => new Uint8Array(readFileSync(`${TESTVECTORS}${path}`));
  /** The ASK and ARK of an AMD "ask_ark" PEM bundle, told apart by their subject CN. */
  function askArk(path: string): { ask: Uint8Array; ark: Uint8Array } {
    const pems = readFileSync(`${TESTVECTORS}${path}`, "utf8").match(
      /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
    );
    assert.equal(pems?.length, 2);
    const certs = (pems ?? []).map((pem) => new X509Certificate(pem));
    const ark = certs.find((c) => /CN=ARK-/.test(c.subject));
    const ask = certs.find((c) => /CN=SEV-/.test(c.subject));
    assert.ok(ark && ask);
    return { ask: new Uint8Array(ask.raw), ark: new Uint8Array(ark.raw) };
  }

  const chains = snpEntries.flatMap((e) => {
    const vcek = e.files.vcek ?? e.files["vcek (derived)"];
    const bundle = e.files.ask_ark;
    if (vcek === undefined || bundle === undefined || !vcek.endsWith(".der")) return [];
    return [{ id: e.id, vcek: der(vcek), ...askArk(bundle) }];
  });

  test("encode -> parse round-trips every real VCEK/ASK/ARK chain", () => {
    assert.ok(chains.length >= 10);
    for (const chain of chains) {
      const crl = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]);
      const vendor = "0123abcd-0000-4000-8000-00000000beef";
      const inputs: CertTableInput[] = [
        { kind: "vcek", data: chain.vcek },
        { kind: "ask", data: chain.ask },
        { kind: "ark", data: chain.ark },
        { kind: "crl", data: crl },
        { guid: vendor.toUpperCase(), data: crl },
      ];
      const table = encodeCertTable(inputs);
      // The GUID goes on the wire in the order it is written (uuid_parse order).
      assert.equal(toHex(table.subarray(0, 16)), "63da758de6644564adc5f4b93be8accd");
      assert.equal(new DataView(table.buffer).getUint32(16, true), 6 * 24);
      assert.ok(table.subarray(5 * 24, 6 * 24).every((b) => b === 0));
      const entries = parseCertTable(table);
      assert.deepEqual(
        entries.map((e) => [e.kind, e.guid, toHex(e.data)]),
        [
          ["vcek", CERT_GUIDS.vcek, toHex(chain.vcek)],
          ["ask", CERT_GUIDS.ask, toHex(chain.ask)],
          ["ark", CERT_GUIDS.ark, toHex(chain.ark)],
          ["crl", CERT_GUIDS.crl, toHex(crl)],
          ["other", vendor, toHex(crl)],
        ],
        chain.id,
      );
      // A page-sized buffer with trailing zeros, as the kernel returns it, parses the same.
      const padded = new Uint8Array(table.length + 4096);
      padded.set(table);
      assert.equal(parseCertTable(padded).length, 5);
    }
  });

  test("a table holding only the terminator is empty", () => {
    assert.deepEqual(parseCertTable(new Uint8Array(24)), []);
    assert.deepEqual(parseCertTable(encodeCertTable([])), []);
  });

  test("the VLEK GUID is recognised", () => {
    const vlek = der("sev-snp/trustee-milan-vlek-aws/test-vlek.der");
    const [entry] = parseCertTable(encodeCertTable([{ kind: "vlek", data: vlek }]));
    assert.equal(entry?.kind, "vlek");
    assert.equal(entry?.guid, "a8074bc2-a25a-483e-aae6-39c045a0b8a1");
  });

  const chain = chains[0];
  assert.ok(chain);
  const good = encodeCertTable([
    { kind: "vcek", data: chain.vcek },
    { kind: "ask", data: chain.ask },
    { kind: "ark", data: chain.ark },
  ]);
  const edited = (edit: (bytes: Uint8Array, view: DataView) => void): Uint8Array => {
    const bytes = good.slice();
    edit(bytes, new DataView(bytes.buffer));
    return bytes;
  };
  const malformed: [string, Uint8Array, string, number][] = [
    ["empty buffer", new Uint8Array(0), "snp.cert_table.terminator", 0],
    ["no terminator", good.subarray(0, 3 * 24), "snp.cert_table.terminator", 72],
    ["cut inside the terminator", good.subarray(0, 3 * 24 + 10), "snp.cert_table.terminator", 82],
    [
      "terminator replaced by an entry",
      edited((b) => b.fill(0x11, 3 * 24, 4 * 24)).subarray(0, 4 * 24),
      "snp.cert_table.terminator",
      4 * 24,
    ],
    [
      "truncated certificate data",
      good.subarray(0, good.length - 1),
      "snp.cert_table.bounds",
      2 * 24 + 16,
    ],
    [
      "offset out of bounds",
      edited((_, v) => v.setUint32(24 + 16, 0xfffffff0, true)),
      "snp.cert_table.bounds",
      24 + 16,
    ],
    [
      "length out of bounds",
      edited((_, v) => v.setUint32(20, 0xffffffff, true)),
      "snp.cert_table.bounds",
      16,
    ],
    [
      "data overlapping the table",
      edited((_, v) => v.setUint32(16, 80, true)),
      "snp.cert_table.bounds",
      16,
    ],
    [
      "zero length",
      edited((_, v) => v.setUint32(24 + 20, 0, true)),
      "snp.cert_table.length",
      24 + 20,
    ],
    [
      "zero GUID with an offset",
      edited((b) => b.fill(0, 24, 24 + 16)),
      "snp.cert_table.terminator",
      24 + 16,
    ],
    ["two VCEKs", edited((b) => b.set(b.subarray(0, 16), 24)), "snp.cert_table.duplicate", 24],
  ];
  for (const [name, bytes, code, offset] of malformed) {
    test(`malformed: ${name}`, () => {
      assert.throws(
        () => parseCertTable(bytes),
        (error: unknown) => {
          assert.ok(error instanceof ParseError, String(error));
          assert.equal(error.code, code);
          assert.equal(error.offset, offset);
          return true;
        },
      );
    });
  }

  test("encodeCertTable refuses what parseCertTable would", () => {
    const data = new Uint8Array([1]);
    assert.throws(() => encodeCertTable([{ guid: "not-a-guid", data }]), /GUID/);
    assert.throws(
      () => encodeCertTable([{ guid: "00000000-0000-0000-0000-000000000000", data }]),
      /GUID/,
    );
    assert.throws(() => encodeCertTable([{ kind: "vcek", data: new Uint8Array(0) }]), /no data/);
    assert.throws(
      () =>
        encodeCertTable([
          { kind: "ask", data },
          { guid: CERT_GUIDS.ask, data },
        ]),
      /only one ASK/,
    );
  });
});

test("a Node Buffer from a pooled allocation parses like its bytes, and is copied", () => {
  const entry = vectorEntry("snp/go-sev-guest-milan");
  const file = readFileSync(`${TESTVECTORS}${entry.files.report}`);
  // A Buffer that starts inside a larger pool: offsets must come from the view, not the pool.
  const pool = Buffer.alloc(file.length + 100);
  file.copy(pool, 100);
  const input = pool.subarray(100);
  const report = parseReport(input);
  assert.deepEqual(toHex(report.measurement), toHex(new Uint8Array(file).subarray(0x90, 0xc0)));
  input.fill(0);
  assert.equal(report.version, 2);
  assert.notEqual(toHex(report.chipId), "00".repeat(64));
});
