import "../../../src/attest/pki/x509.js";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { Extension, X509CertificateGenerator } from "@peculiar/x509";
import { verifyPckChain, verifyTcbSigningChain } from "../../../src/attest/dcap/chain.js";
import { readPckExtensions } from "../../../src/attest/dcap/pck.js";
import { INTEL_ROOT_FINGERPRINT, intelRoot, intelRootKey } from "../../../src/attest/dcap/roots.js";
import { fingerprint, parseCertificates } from "../../../src/attest/pki/certificates.js";
import type { X509Certificate } from "../../../src/attest/pki/x509.js";
import { VerificationError } from "../../../src/attest/verifier.js";
import { CloisterError, ParseError } from "../../../src/errors.js";
import { TESTVECTORS, VECTOR_INDEX, vectorEntry } from "../../support/testvectors.js";

const QUOTE_KEYS = ["quote", "quote (derived)", "td_quote"];
const quoteEntries = VECTOR_INDEX.filter(
  (e) => (e.tee === "tdx" || e.tee === "sgx") && QUOTE_KEYS.some((key) => key in e.files),
);
const DAY = 86_400_000;

function quotePath(files: Readonly<Record<string, string>>): string {
  const key = QUOTE_KEYS.find((k) => k in files);
  assert.ok(key);
  return files[key] as string;
}

/** The PEM the quote carries as certification data type 5, found by its markers. */
function chainPemIn(quote: Uint8Array | Buffer): string {
  const text = Buffer.from(quote).toString("latin1");
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]*-----END CERTIFICATE-----\n?/.exec(text)?.[0];
  assert.ok(pem, "no PEM chain in the quote");
  return pem;
}

const quoteChainPem = (path: string) => chainPemIn(readFileSync(TESTVECTORS + path));

/** The time the index states first, when it states one; else one day into the PCK's validity. */
function verifyTime(verifyAt: string, leaf: X509Certificate): Date {
  const stated = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/.exec(verifyAt)?.[0];
  return stated === undefined ? new Date(leaf.notBefore.getTime() + DAY) : new Date(stated);
}

function certs(pem: string): X509Certificate[] {
  return parseCertificates(pem, "test chain");
}

const toPem = (list: readonly X509Certificate[]) => list.map((c) => c.toString("pem")).join("\n");

async function rejects(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof VerificationError, `expected a VerificationError, got ${error}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

/** A copy of the DER with its last byte (the end of the ECDSA signature's s) changed. */
function withBadSignature(certificate: X509Certificate): string {
  const der = new Uint8Array(certificate.rawData);
  der[der.length - 1] = (der[der.length - 1] as number) ^ 0x01;
  const base64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`;
}

describe("the pinned Intel SGX Root CA", () => {
  test("is the corpus's trust anchor, byte for byte", async () => {
    const entry = vectorEntry("tdx/go-tdx-guest-spr-v4");
    const [fromCorpus] = certs(readFileSync(TESTVECTORS + (entry.files.root as string), "utf8"));
    assert.ok(fromCorpus);
    const der = new Uint8Array(readFileSync(`${TESTVECTORS}tdx/intel-root/Intel_SGX_Root_CA.der`));
    assert.deepEqual(new Uint8Array(intelRoot().rawData), der);
    assert.equal(fingerprint(intelRoot()), INTEL_ROOT_FINGERPRINT);
    assert.equal(fingerprint(fromCorpus), INTEL_ROOT_FINGERPRINT);
    assert.equal(intelRoot(), intelRoot());
    // Imported once, for ECDSA P-256 verification only.
    assert.equal(intelRootKey(), intelRootKey());
    const key = await intelRootKey();
    assert.deepEqual(key.algorithm, { name: "ECDSA", namedCurve: "P-256" });
    assert.deepEqual(key.usages, ["verify"]);
  });
});

describe("every TDX and SGX quote vector's PCK chain verifies to the pinned root", () => {
  test("the index has the vectors this suite expects", () => {
    assert.ok(quoteEntries.length >= 15, `only ${quoteEntries.length} entries`);
  });

  for (const entry of quoteEntries) {
    test(entry.id, async () => {
      const pem = quoteChainPem(quotePath(entry.files));
      const [leaf, intermediate, root] = certs(pem);
      assert.ok(leaf && intermediate && root);
      // Where the index states the PCK's window, it is the leaf's.
      const window = /PCK window (\d{4}-\d\d-\d\d)\.\.(\d{4}-\d\d-\d\d)/.exec(entry.verify_at);
      if (window) {
        assert.equal(leaf.notBefore.toISOString().slice(0, 10), window[1]);
        assert.equal(leaf.notAfter.toISOString().slice(0, 10), window[2]);
      }
      const now = verifyTime(entry.verify_at, leaf);
      const chain = await verifyPckChain(pem, now);
      assert.equal(fingerprint(chain.leaf), fingerprint(leaf));
      assert.equal(fingerprint(chain.intermediate), fingerprint(intermediate));
      assert.equal(chain.kind, entry.id === "sgx/dcap-qvl" ? "processor" : "platform");
      assert.equal(chain.extensions.fmspc, (entry.our_check as { fmspc: string }).fmspc);
      assert.deepEqual(chain.extensions, readPckExtensions(leaf));
      assert.deepEqual(chain.leafKey.algorithm, { name: "ECDSA", namedCurve: "P-256" });
      assert.deepEqual(chain.leafKey.usages, ["verify"]);
      assert.deepEqual(
        chain.checks.map((c) => [c.code, c.status]),
        [
          ["dcap.chain.pck", "pass"],
          ["dcap.certificate.validity.pck", "pass"],
        ],
      );
      assert.match(chain.checks[0]?.message ?? "", /pinned Intel SGX Root CA/);
    });
  }

  test("the leaf key verifies the QE report signature (TDX v4 and SGX v3 layouts)", async () => {
    // v4: header 48, TD body 584, signature-data length 4, quote signature 64, attestation key
    // 64, certification type 2 + size 4, then QE report 384 and its signature 64.
    // v3: header 48, enclave body 384, length 4, signature 64, key 64, QE report, signature.
    const layouts = [
      { id: "tdx/go-tdx-guest-spr-v4", report: 770, typeAt: 764 },
      { id: "sgx/dcap-qvl", report: 564, typeAt: undefined },
    ];
    for (const { id, report, typeAt } of layouts) {
      const entry = vectorEntry(id);
      const quote = new Uint8Array(readFileSync(TESTVECTORS + (entry.files.quote as string)));
      const view = new DataView(quote.buffer, quote.byteOffset);
      if (typeAt !== undefined) assert.equal(view.getUint16(typeAt, true), 6);
      const pem = chainPemIn(quote);
      const [leaf] = certs(pem);
      assert.ok(leaf);
      const chain = await verifyPckChain(pem, verifyTime(entry.verify_at, leaf));
      const body = quote.slice(report, report + 384);
      const signature = quote.slice(report + 384, report + 448);
      const ecdsa = { name: "ECDSA", hash: "SHA-256" };
      assert.ok(await crypto.subtle.verify(ecdsa, chain.leafKey, signature, body), id);
      body[0] = (body[0] as number) ^ 1;
      assert.ok(!(await crypto.subtle.verify(ecdsa, chain.leafKey, signature, body)), id);
    }
  });

  test("the chain text may carry the quote's trailing NUL and text around it", async () => {
    const entry = vectorEntry("tdx/go-tdx-guest-spr-v4");
    const pem = quoteChainPem(entry.files.quote as string);
    const chain = await verifyPckChain(`junk\n${pem}\n\0`, new Date("2023-07-01T01:00:00Z"));
    assert.equal(chain.extensions.fmspc, "50806f000000");
  });
});

const spr = vectorEntry("tdx/go-tdx-guest-spr-v4");
const sprPem = quoteChainPem(spr.files.quote as string);
const sprNow = new Date("2023-07-01T01:00:00Z");
const [sprLeaf, sprCa, sprRoot] = certs(sprPem) as [
  X509Certificate,
  X509Certificate,
  X509Certificate,
];

describe("verifyPckChain refuses", () => {
  test("a PCK certificate or CA certificate whose signature was changed", async () => {
    await rejects(
      verifyPckChain(
        toPem([sprLeaf, sprCa]).replace(toPem([sprLeaf]), withBadSignature(sprLeaf)),
        sprNow,
      ),
      "dcap.chain.signature",
      /^The PCK certificate's signature does not verify with the Intel SGX PCK Platform CA's key/,
    );
    await rejects(
      verifyPckChain(`${toPem([sprLeaf])}\n${withBadSignature(sprCa)}${toPem([sprRoot])}`, sprNow),
      "dcap.chain.signature",
      /^The Intel SGX PCK Platform CA certificate's signature does not verify with the pinned Intel SGX Root CA's key/,
    );
  });

  test("the quote bytes go-tdx-guest's TestNegativeVerification alters (README section 3)", async () => {
    // Offsets into tdx_prod_quote_SPR_E4.dat, each set to 0x32, and the failure the source expects.
    const cases = [
      { offset: 0xb77, code: "dcap.chain.signature", message: /^The PCK certificate's/ }, // leaf
      { offset: 0xf5f, code: "dcap.chain.signature", message: /Platform CA certificate's/ }, // CA
      // The root: here, a root that is not byte for byte the pinned one is refused as such.
      { offset: 0x1329, code: "dcap.chain.unpinned_root", message: /not the pinned Intel SGX/ },
    ];
    const quote = readFileSync(TESTVECTORS + (spr.files.quote as string));
    for (const { offset, code, message } of cases) {
      const altered = Buffer.from(quote);
      altered[offset] = 0x32;
      await rejects(verifyPckChain(chainPemIn(altered), sprNow), code, message);
    }
  });

  test("a self-signed root named Intel SGX Root CA, in place of the pinned one", async () => {
    const impostor = await X509CertificateGenerator.createSelfSigned({
      name: intelRoot().subject,
      keys: await p256(),
      signingAlgorithm: ECDSA,
    });
    assert.equal(impostor.subject, intelRoot().subject);
    await rejects(
      verifyPckChain(toPem([sprLeaf, sprCa, impostor]), sprNow),
      "dcap.chain.unpinned_root",
      /^The supplied root certificate "CN=Intel SGX Root CA, .*" is not the pinned Intel SGX Root CA \(fingerprint 44a0196b2b99f889…\)/,
    );
    // A whole chain of look-alikes under it is refused for the same reason.
    const fake = await lookAlikeChain();
    await rejects(verifyPckChain(toPem(fake), sprNow), "dcap.chain.unpinned_root");
    // Without the root, the look-alike CA does not verify with the pinned root's key.
    await rejects(
      verifyPckChain(toPem(fake.slice(0, 2)), sprNow),
      "dcap.chain.signature",
      /Platform CA certificate's signature does not verify with the pinned Intel SGX Root CA/,
    );
  });

  test("the chain before or after its validity, naming the certificate and its window", async () => {
    // The index: "2053-07-01T01:00:00Z must fail with PCK expiry".
    const late = /(\d{4}-\d\d-\d\dT[\d:]+Z) must fail with PCK expiry/.exec(spr.verify_at)?.[1];
    assert.equal(late, "2053-07-01T01:00:00Z");
    await rejects(
      verifyPckChain(sprPem, new Date(late as string)),
      "dcap.certificate.expired",
      /^The PCK certificate expired before 2053-07-01T01:00:00\.000Z: it was valid from 2022-09-20T13:20:31\.000Z to 2029-09-20T13:20:31\.000Z\.$/,
    );
    await rejects(
      verifyPckChain(sprPem, new Date(sprLeaf.notBefore.getTime() - 1000)),
      "dcap.certificate.not_yet_valid",
      /^The PCK certificate is not yet valid at 2022-09-20T13:20:30\.000Z/,
    );
    // Before the CA's window (and the PCK's): the PCK is named first.
    await rejects(
      verifyPckChain(sprPem, new Date("2018-01-01T00:00:00Z")),
      "dcap.certificate.not_yet_valid",
      /PCK certificate/,
    );
    // The edges of the window are inside it.
    await verifyPckChain(sprPem, sprLeaf.notBefore);
    await verifyPckChain(sprPem, sprLeaf.notAfter);
    await assert.rejects(verifyPckChain(sprPem, new Date(Number.NaN)), (error) => {
      assert.ok(error instanceof CloisterError);
      assert.equal(error.code, "verify.now");
      return true;
    });
  });

  test("a kept chain is still held to the time of each call", async () => {
    const first = await verifyPckChain(sprPem, sprNow);
    const again = await verifyPckChain(sprPem, sprNow);
    assert.equal(again, first, "the same chain bytes give the kept verification");
    await rejects(
      verifyPckChain(sprPem, new Date("2030-01-01T00:00:00Z")),
      "dcap.certificate.expired",
    );
    assert.throws(() => first.checkValidity(new Date("2030-01-01T00:00:00Z")), VerificationError);
    first.checkValidity(sprNow);
  });

  test("chains of the wrong shape", async () => {
    await rejects(
      verifyPckChain(toPem([sprLeaf]), sprNow),
      "dcap.chain.shape",
      /holds 1 certificates/,
    );
    await rejects(
      verifyPckChain(toPem([sprLeaf, sprCa, sprRoot, sprRoot]), sprNow),
      "dcap.chain.shape",
      /holds 4 certificates/,
    );
    await rejects(
      verifyPckChain(toPem([sprRoot, sprCa, sprLeaf]), sprNow),
      "dcap.chain.shape",
      /out of order: "Intel SGX Root CA" is not issued by the certificate after it, "Intel SGX PCK Platform CA"/,
    );
    await rejects(
      verifyPckChain(toPem([sprCa, sprLeaf, sprRoot]), sprNow),
      "dcap.chain.shape",
      /out of order/,
    );
    await rejects(verifyPckChain(toPem([sprLeaf, sprRoot]), sprNow), "dcap.chain.shape");
    await assert.rejects(verifyPckChain("no certificates", sprNow), ParseError);
  });

  test("an intermediate that is not the Platform or Processor CA", async () => {
    // A certificate in the TCB Signing certificate's name, under the real TCB Signing cert.
    const signing = loadDer("tdx/automata-pcs-certs/Intel_SGX_TCB_Signing_2025.der");
    const leaf = await X509CertificateGenerator.create({
      subject: "CN=Intel SGX PCK Certificate",
      issuer: signing.subject,
      publicKey: (await p256()).publicKey,
      signingKey: (await p256()).privateKey,
      signingAlgorithm: ECDSA,
    });
    await rejects(
      verifyPckChain(toPem([leaf, signing, sprRoot]), new Date("2025-06-01T00:00:00Z")),
      "dcap.chain.intermediate",
      /issued by "Intel SGX TCB Signing", not by the Intel SGX PCK Platform CA or Processor CA/,
    );
  });
});

describe("verifyTcbSigningChain", () => {
  const withChain = VECTOR_INDEX.filter(
    (e) =>
      (e.tee === "tdx" || e.tee === "sgx") &&
      ("tcb_info_chain" in e.files || "qe_identity_chain" in e.files),
  );
  const collateral = VECTOR_INDEX.filter(
    (e) => (e.tee === "tdx" || e.tee === "sgx") && "collateral" in e.files,
  );

  test("the index has the vectors this suite expects", () => {
    assert.ok(withChain.length >= 2 && collateral.length >= 3);
  });

  for (const entry of withChain) {
    for (const key of ["tcb_info_chain", "qe_identity_chain"].filter((k) => k in entry.files)) {
      test(`${entry.id}: ${key}`, async () => {
        const pem = readFileSync(TESTVECTORS + (entry.files[key] as string), "utf8");
        const [signer] = certs(pem);
        assert.ok(signer);
        const now = verifyTime(entry.verify_at, signer);
        if (now > signer.notAfter) {
          // go-tdx-guest's TCB Signing certificate expired 2025-05-21 (README section 9), before
          // the v5 vector's time: the chain is then refused, naming the certificate.
          assert.equal(signer.notAfter.toISOString(), "2025-05-21T10:50:10.000Z");
          await rejects(
            verifyTcbSigningChain(pem, now),
            "dcap.certificate.expired",
            /^The Intel SGX TCB Signing certificate expired before .* to 2025-05-21T10:50:10\.000Z\.$/,
          );
          return;
        }
        const chain = await verifyTcbSigningChain(pem, now);
        assert.equal(fingerprint(chain.signer), fingerprint(signer));
        assert.deepEqual(chain.key.algorithm, { name: "ECDSA", namedCurve: "P-256" });
        assert.deepEqual(
          chain.checks.map((c) => [c.code, c.status]),
          [
            ["dcap.chain.tcb_signing", "pass"],
            ["dcap.certificate.validity.tcb_signing", "pass"],
          ],
        );
      });
    }
  }

  for (const entry of collateral) {
    test(`${entry.id}: the collateral JSON's issuer chains`, async () => {
      const json = JSON.parse(
        readFileSync(TESTVECTORS + (entry.files.collateral as string), "utf8"),
      );
      const now = new Date(/^\S+Z/.exec(entry.verify_at)?.[0] as string);
      for (const field of ["tcb_info_issuer_chain", "qe_identity_issuer_chain"]) {
        const chain = await verifyTcbSigningChain(json[field] as string, now);
        assert.equal(chain.signer.subjectName.getField("CN")[0], "Intel SGX TCB Signing");
      }
      // The PCK CRL's issuer chain starts with a PCK CA, which does not sign TCB info.
      await rejects(
        verifyTcbSigningChain(json.pck_crl_issuer_chain as string, now),
        "dcap.chain.tcb_signer",
        /named "Intel SGX PCK (Platform|Processor) CA", not Intel SGX TCB Signing/,
      );
    });
  }

  test("the 2025 re-issue, as DER alone or as parsed certificates with the root", async () => {
    const der = new Uint8Array(
      readFileSync(`${TESTVECTORS}tdx/automata-pcs-certs/Intel_SGX_TCB_Signing_2025.der`),
    );
    const entry = vectorEntry("tdx/trustee-quote6");
    assert.equal(entry.files.tcb_signing, "tdx/automata-pcs-certs/Intel_SGX_TCB_Signing_2025.der");
    const now = new Date(/window (\S+Z)\.\./.exec(entry.verify_at)?.[1] as string);
    const fromDer = await verifyTcbSigningChain(der, now);
    const root = loadDer("tdx/automata-pcs-certs/Intel_SGX_Root_CA.der");
    const fromList = await verifyTcbSigningChain(
      [loadDer("tdx/automata-pcs-certs/Intel_SGX_TCB_Signing_2025.der"), root],
      now,
    );
    assert.equal(fingerprint(fromList.signer), fingerprint(fromDer.signer));
    // The same key as the 2018 certificate that go-tdx-guest's chain holds (README section 9).
    const [old] = certs(readFileSync(TESTVECTORS + (spr.files.tcb_info_chain as string), "utf8"));
    assert.deepEqual(
      new Uint8Array(fromDer.signer.publicKey.rawData),
      new Uint8Array((old as X509Certificate).publicKey.rawData),
    );
    await rejects(
      verifyTcbSigningChain(der, new Date("2025-05-01T00:00:00Z")),
      "dcap.certificate.not_yet_valid",
      /^The Intel SGX TCB Signing certificate is not yet valid/,
    );
    await rejects(
      verifyTcbSigningChain(der, new Date("2032-05-07T00:00:00Z")),
      "dcap.certificate.expired",
    );
  });

  test("refuses a changed signature, a look-alike root and the wrong shape", async () => {
    const signing = loadDer("tdx/automata-pcs-certs/Intel_SGX_TCB_Signing_2025.der");
    const now = new Date("2025-10-28T00:00:00Z");
    await rejects(
      verifyTcbSigningChain(withBadSignature(signing), now),
      "dcap.chain.signature",
      /^The Intel SGX TCB Signing certificate's signature does not verify with the pinned Intel SGX Root CA's key/,
    );
    const impostor = await X509CertificateGenerator.createSelfSigned({
      name: intelRoot().subject,
      keys: await p256(),
      signingAlgorithm: ECDSA,
    });
    await rejects(verifyTcbSigningChain([signing, impostor], now), "dcap.chain.unpinned_root");
    await rejects(verifyTcbSigningChain([], now), "dcap.chain.shape", /holds 0 certificates/);
    await rejects(
      verifyTcbSigningChain([intelRoot(), signing], now),
      "dcap.chain.shape",
      /the root first/,
    );
    await rejects(
      verifyTcbSigningChain([signing, intelRoot(), intelRoot()], now),
      "dcap.chain.shape",
    );
    await rejects(
      verifyTcbSigningChain([intelRoot()], now),
      "dcap.chain.tcb_signer",
      /named "Intel SGX Root CA"/,
    );
  });
});

// ---------------------------------------------------------------------------------------------

const ECDSA = { name: "ECDSA", hash: "SHA-256" } as EcdsaParams;

function p256(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
    "sign",
    "verify",
  ]) as Promise<CryptoKeyPair>;
}

function loadDer(path: string): X509Certificate {
  const [certificate] = parseCertificates(new Uint8Array(readFileSync(TESTVECTORS + path)), path);
  assert.ok(certificate);
  return certificate;
}

/** Root, Platform CA and PCK certificate with Intel's names, the leaf with the real extension. */
async function lookAlikeChain(): Promise<X509Certificate[]> {
  const rootKeys = await p256();
  const caKeys = await p256();
  const root = await X509CertificateGenerator.createSelfSigned({
    name: intelRoot().subject,
    keys: rootKeys,
    signingAlgorithm: ECDSA,
    notBefore: new Date("2018-01-01T00:00:00Z"),
    notAfter: new Date("2049-01-01T00:00:00Z"),
  });
  const ca = await X509CertificateGenerator.create({
    subject: sprCa.subject,
    issuer: root.subject,
    publicKey: caKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: ECDSA,
    notBefore: new Date("2018-01-01T00:00:00Z"),
    notAfter: new Date("2049-01-01T00:00:00Z"),
  });
  const sgx = sprLeaf.extensions.find((e) => e.type === "1.2.840.113741.1.13.1");
  assert.ok(sgx);
  const leaf = await X509CertificateGenerator.create({
    subject: sprLeaf.subject,
    issuer: ca.subject,
    publicKey: (await p256()).publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ECDSA,
    notBefore: new Date("2022-01-01T00:00:00Z"),
    notAfter: new Date("2029-01-01T00:00:00Z"),
    extensions: [new Extension(sgx.type, false, sgx.value)],
  });
  return [leaf, ca, root];
}
