import "../../../src/attest/pki/x509.js";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { X509CertificateGenerator } from "@peculiar/x509";
import { fingerprint, parseCertificates } from "../../../src/attest/pki/certificates.js";
import type { X509Certificate } from "../../../src/attest/pki/x509.js";
import type { SnpProduct } from "../../../src/attest/snp/abi/types.js";
import { verifySigningChain } from "../../../src/attest/snp/chain.js";
import { amdRoots, identifyPinned, SNP_PRODUCTS } from "../../../src/attest/snp/roots.js";
import { readSigningCert } from "../../../src/attest/snp/vcek.js";
import { VerificationError } from "../../../src/attest/verifier.js";
import { TESTVECTORS, VECTOR_INDEX } from "../../support/testvectors.js";

const snpEntries = VECTOR_INDEX.filter((e) => e.tee?.startsWith("sev-snp"));

/** Index file keys that name the VCEK or VLEK (azure-vtpm-milan's PEM holds VCEK+ASK+ARK). */
const SIGNER_KEYS = ["vcek", "vcek (derived)", "vlek", "vcek_ask_ark"];
/** Index file keys that name AMD intermediates and roots. */
const CHAIN_KEYS = ["ask_ark", "asvk_ark", "ask", "ark"];

function load(path: string): X509Certificate[] {
  return parseCertificates(new Uint8Array(readFileSync(TESTVECTORS + path)), path);
}

function loadOne(path: string): X509Certificate {
  const [certificate] = load(path);
  assert.ok(certificate);
  return certificate;
}

function productIn(path: string): SnpProduct {
  const match = /(milan|genoa|turin)/i.exec(path)?.[1];
  assert.ok(match, `no product in ${path}`);
  return (match.charAt(0).toUpperCase() + match.slice(1).toLowerCase()) as SnpProduct;
}

const DAY = 86_400_000;
const afterIssue = (certificate: X509Certificate) =>
  new Date(certificate.notBefore.getTime() + DAY);

async function rejects(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof VerificationError, `expected a VerificationError, got ${error}`);
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  });
}

const chainEntries = snpEntries.filter((e) => SIGNER_KEYS.some((key) => key in e.files));

describe("every SEV-SNP vector's VCEK/VLEK chains to the pinned ARK of its product", () => {
  test("the index has the vectors this suite expects", () => {
    assert.ok(chainEntries.length >= 14, `only ${chainEntries.length} entries`);
    assert.ok(chainEntries.some((e) => "vlek" in e.files));
    assert.ok(chainEntries.some((e) => "vcek_ask_ark" in e.files));
  });

  for (const entry of chainEntries) {
    test(entry.id, async () => {
      const signerKey = SIGNER_KEYS.find((key) => key in entry.files) as string;
      const signerFile = entry.files[signerKey] as string;
      const fromSignerFile = load(signerFile);
      const chainFiles = CHAIN_KEYS.flatMap((key) => entry.files[key] ?? []);
      const supplied = [...fromSignerFile.slice(1), ...chainFiles.flatMap(load)];
      const signer = fromSignerFile[0] as X509Certificate;
      const expected = productIn(chainFiles[0] ?? signerFile);

      // The signer's window is the one the index states, where it states one.
      const window = /(\d{4}-\d\d-\d\dT[\d:]+Z)\.\.(\d{4}-\d\d-\d\dT[\d:]+Z)/.exec(entry.verify_at);
      if (window) {
        assert.equal(signer.notBefore.getTime(), Date.parse(window[1] as string));
        assert.equal(signer.notAfter.getTime(), Date.parse(window[2] as string));
      }
      // Every supplied AMD certificate is one of the pinned ones for the expected product.
      for (const certificate of supplied) {
        assert.equal(identifyPinned(certificate)?.product, expected, certificate.subject);
      }

      // AMD issues every VCEK and VLEK with serial number 0, which strict parsers refuse.
      assert.equal(signer.serialNumber, "00");
      const info = readSigningCert(signer);
      assert.equal(info.kind, signerKey === "vlek" ? "vlek" : "vcek");
      const result = await verifySigningChain(signer, info, supplied, afterIssue(signer));
      assert.equal(result.product, expected);
      assert.deepEqual(result.anchor, {
        name: `AMD ARK-${expected}`,
        fingerprint: amdRoots(expected).arkFingerprint,
      });
      assert.deepEqual(
        result.checks.map((c) => [c.code, c.status]),
        [
          ["snp.chain", "pass"],
          ["snp.certificate.validity", "pass"],
        ],
      );
      const intermediate = info.kind === "vcek" ? "ASK" : "ASVK";
      assert.match(
        result.checks[0]?.message ?? "",
        new RegExp(
          `^The ${info.kind.toUpperCase()} chains to the pinned AMD ARK-${expected} .* through the pinned ${intermediate} `,
        ),
      );
      // The same result without any supplied certificate: only the pinned ones are used.
      const bare = await verifySigningChain(signer, info, [], afterIssue(signer));
      assert.deepEqual(bare.anchor, result.anchor);
    });
  }
});

describe("chain negatives", () => {
  const vcekPath = "sev-snp/go-sev-guest-milan/vcek.der";
  const vcekDer = new Uint8Array(readFileSync(TESTVECTORS + vcekPath));
  const vcek = loadOne(vcekPath);
  const info = readSigningCert(vcek);
  const now = afterIssue(vcek);

  /** The mutations virtee and trustee apply to the VCEK DER. */
  for (const [name, mutate] of [
    [
      "byte 40 ^= 0xff (virtee milan_chain_invalid)",
      (b: Uint8Array) => (b[40] = (b[40] as number) ^ 0xff),
    ],
    ["byte 42 += 1 (trustee)", (b: Uint8Array) => (b[42] = ((b[42] as number) + 1) & 0xff)],
  ] as const) {
    test(`a VCEK with ${name} does not verify`, async () => {
      const bytes = vcekDer.slice();
      mutate(bytes);
      // Both bytes sit in the TBS's signature AlgorithmIdentifier: the certificate still
      // parses, but the signature no longer covers what it says.
      const [tampered] = parseCertificates(bytes, "tampered VCEK");
      assert.ok(tampered);
      await rejects(
        verifySigningChain(tampered, readSigningCert(tampered), [], now),
        "snp.chain.signer_signature",
        /^The VCEK's signature does not verify with the pinned AMD ASK-Milan/,
      );
    });
  }

  test("a Milan VCEK supplied with the Genoa ASK/ARK fails as the wrong product", async () => {
    const genoa = load("sev-snp/amd-roots/genoa_ask_ark.pem");
    await rejects(
      verifySigningChain(vcek, info, genoa, now),
      "snp.chain.wrong_product",
      /Genoa.*Milan/,
    );
    // Also when the matching chain is supplied alongside.
    const milan = load("sev-snp/amd-roots/milan_ask_ark.pem");
    await rejects(
      verifySigningChain(vcek, info, [...milan, ...genoa], now),
      "snp.chain.wrong_product",
    );
  });

  test("a VCEK checked as if it were a VLEK (against the ASVK) fails its signature", async () => {
    await rejects(
      verifySigningChain(vcek, { ...info, kind: "vlek" }, [], now),
      "snp.chain.signer_signature",
      /ASVK-Milan/,
    );
  });

  test("a VLEK checked as if it were a VCEK (against the ASK) fails its signature", async () => {
    const vlek = loadOne("sev-snp/trustee-milan-vlek-aws/test-vlek.der");
    const vlekInfo = readSigningCert(vlek);
    await verifySigningChain(vlek, vlekInfo, [], afterIssue(vlek));
    await rejects(
      verifySigningChain(vlek, { ...vlekInfo, kind: "vcek" }, [], afterIssue(vlek)),
      "snp.chain.signer_signature",
    );
  });

  test("a Milan VCEK claimed to be a Genoa one fails its signature", async () => {
    await rejects(
      verifySigningChain(vcek, { ...info, product: "Genoa" }, [], now),
      "snp.chain.signer_signature",
      /ASK-Genoa/,
    );
  });

  test("a product Cloister pins no root for is refused", async () => {
    await rejects(
      verifySigningChain(vcek, { ...info, productName: "Naples", product: undefined }, [], now),
      "snp.chain.unknown_product",
      /"Naples"/,
    );
  });

  test("validity is checked at the given time, naming the certificate and its window", async () => {
    const after = new Date(vcek.notAfter.getTime() + 1000);
    await rejects(
      verifySigningChain(vcek, info, [], after),
      "snp.certificate.expired",
      /^The VCEK certificate expired before .*: it was valid from 2022-09-24T00:55:28\.000Z to 2029-09-24T00:55:28\.000Z\.$/,
    );
    const before = new Date(vcek.notBefore.getTime() - 1000);
    await rejects(
      verifySigningChain(vcek, info, [], before),
      "snp.certificate.not_yet_valid",
      /^The VCEK certificate is not yet valid at 2022-09-24T00:55:27\.000Z: it is valid from 2022-09-24T00:55:28\.000Z/,
    );
    // The window edges themselves are inside.
    await verifySigningChain(vcek, info, [], vcek.notBefore);
    await verifySigningChain(vcek, info, [], vcek.notAfter);
  });

  test("a kept result re-checks validity at each new time", async () => {
    const result = await verifySigningChain(vcek, info, [], now);
    result.checkValidity(new Date("2029-01-01T00:00:00Z"));
    assert.throws(
      () => result.checkValidity(new Date("2030-01-01T00:00:00Z")),
      (error) => error instanceof VerificationError && error.code === "snp.certificate.expired",
    );
    assert.throws(
      () => result.checkValidity(new Date("2020-01-01T00:00:00Z")),
      (error) =>
        error instanceof VerificationError && error.code === "snp.certificate.not_yet_valid",
    );
    assert.throws(() => result.checkValidity(new Date(Number.NaN)), /not a valid date/);
  });

  test("a self-signed certificate named like an AMD ARK is refused as an unpinned root", async () => {
    const keys = await crypto.subtle.generateKey(
      {
        name: "RSA-PSS",
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-384",
      },
      true,
      ["sign", "verify"],
    );
    const fake = await X509CertificateGenerator.createSelfSigned({
      name: "OU=Engineering, C=US, L=Santa Clara, ST=CA, O=Advanced Micro Devices, CN=ARK-Milan",
      keys,
      signingAlgorithm: { name: "RSA-PSS", saltLength: 48 } as Algorithm,
      notBefore: new Date("2020-01-01T00:00:00Z"),
      notAfter: new Date("2050-01-01T00:00:00Z"),
    });
    assert.equal(fake.subject, amdRoots("Milan").ark.subject);
    const milanAsk = amdRoots("Milan").ask;
    await rejects(
      verifySigningChain(vcek, info, [milanAsk, fake], now),
      "snp.chain.unpinned_root",
      /ARK-Milan.*is not a pinned AMD root/,
    );
  });
});

describe("pinned AMD roots", () => {
  /** testvectors/README.md section 1 lists "ASK 67d303bd…ac1b, ARK 69d063b4…0bcd" per product. */
  const readme = readFileSync(`${TESTVECTORS}README.md`, "utf8");

  for (const product of SNP_PRODUCTS) {
    test(`${product}: the embedded certificates are the vector files' and hash to the README's fingerprints`, () => {
      const roots = amdRoots(product);
      const lower = product.toLowerCase();
      const row = readme
        .split("\n")
        .find((line) => line.startsWith(`| \`sev-snp/amd-roots/${lower}_ask_ark.pem\``));
      assert.ok(row, `no README row for ${product}`);
      for (const [role, certificate, pinned] of [
        ["ASK", roots.ask, roots.askFingerprint],
        ["ARK", roots.ark, roots.arkFingerprint],
      ] as const) {
        const listed = new RegExp(`${role} ([0-9a-f]{8})…([0-9a-f]{4})`).exec(row);
        assert.ok(listed, `no ${role} fingerprint in ${row}`);
        const actual = createHash("sha256")
          .update(new Uint8Array(certificate.rawData))
          .digest("hex");
        assert.equal(actual, pinned);
        assert.ok(actual.startsWith(listed[1] as string), `${role}-${product} ${actual}`);
        assert.ok(actual.endsWith(listed[2] as string), `${role}-${product} ${actual}`);
      }
      // Byte for byte the certificates AMD serves, as the vectors hold them (intermediate first).
      const [ask, ark] = load(`sev-snp/amd-roots/${lower}_ask_ark.pem`);
      const [asvk, ark2] = load(`sev-snp/amd-roots/${lower}_asvk_ark.pem`);
      for (const [embedded, file] of [
        [roots.ask, ask],
        [roots.ark, ark],
        [roots.ark, ark2],
        [roots.asvk, asvk],
      ] as const) {
        assert.ok(file);
        assert.deepEqual(new Uint8Array(embedded.rawData), new Uint8Array(file.rawData));
      }
      assert.equal(fingerprint(roots.asvk), roots.asvkFingerprint);
      assert.equal(roots.ark.subject.endsWith(`CN=ARK-${product}`), true);
      assert.equal(roots.ask.subject.endsWith(`CN=SEV-${product}`), true);
      assert.equal(roots.asvk.subject.endsWith(`CN=SEV-VLEK-${product}`), true);
      assert.deepEqual(identifyPinned(roots.ark), { product, role: "ark" });
      assert.deepEqual(identifyPinned(roots.ask), { product, role: "ask" });
      assert.deepEqual(identifyPinned(roots.asvk), { product, role: "asvk" });
    });
  }

  test("the roots are parsed once and kept", () => {
    assert.equal(amdRoots("Milan").ark, amdRoots("Milan").ark);
    assert.equal(amdRoots("Genoa").asvk, amdRoots("Genoa").asvk);
    assert.equal(identifyPinned(loadOne("sev-snp/go-sev-guest-milan/vcek.der")), undefined);
  });
});
