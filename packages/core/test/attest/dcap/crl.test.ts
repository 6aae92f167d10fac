import "../../../src/attest/pki/x509.js";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  X509CertificateGenerator,
  type X509CrlEntryParams,
  X509CrlGenerator,
  X509CrlReason,
} from "@peculiar/x509";
import {
  type PckChain,
  verifyPckChain,
  verifyTcbSigningChain,
} from "../../../src/attest/dcap/chain.js";
import { type CrlInput, checkCrls, checkCrlWith, parseCrl } from "../../../src/attest/dcap/crl.js";
import { intelRoot } from "../../../src/attest/dcap/roots.js";
import { parseCertificates } from "../../../src/attest/pki/certificates.js";
import type { X509Certificate, X509Crl } from "../../../src/attest/pki/x509.js";
import type { Check } from "../../../src/attest/types.js";
import { ParseError } from "../../../src/errors.js";
import {
  TESTVECTORS,
  VECTOR_INDEX,
  type VectorEntry,
  vectorEntry,
} from "../../support/testvectors.js";

/**
 * Intel's CRLs from the vectors against the chains of the same vectors, at the times the index
 * states; then a test CA in Intel's place for what no vector shows (a revoked certificate, a
 * CRL without a next update).
 */

const QUOTE_KEYS = ["quote", "quote (derived)", "td_quote"];
const DAY = 86_400_000;
const ECDSA = { name: "ECDSA", hash: "SHA-256" } as EcdsaParams;

const read = (path: string) => new Uint8Array(readFileSync(TESTVECTORS + path));

function quoteChainPem(entry: VectorEntry): string {
  const key = QUOTE_KEYS.find((k) => k in entry.files) as string;
  const text = Buffer.from(read(entry.files[key] as string)).toString("latin1");
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]*-----END CERTIFICATE-----/.exec(text)?.[0];
  assert.ok(pem, `no PEM chain in ${entry.id}`);
  return pem;
}

/**
 * The first time the index states for the entry (its verification time, or the start of its
 * collateral window), but no earlier than a day into the PCK's validity: automata-alibaba-v5's
 * collateral window opens before its PCK was issued.
 */
function verifyTime(entry: VectorEntry, leaf: X509Certificate): Date {
  const stated = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/.exec(entry.verify_at)?.[0];
  const floor = leaf.notBefore.getTime() + DAY;
  return new Date(Math.max(stated === undefined ? floor : Date.parse(stated), floor));
}

interface VectorCrls {
  readonly pckCrl?: CrlInput;
  readonly rootCrl?: CrlInput;
  /** The TCB signing chain shipped with the same collateral. */
  readonly tcbChain?: string | Uint8Array;
}

/** The CRLs an entry ships, whichever way it ships them. */
function crlsOf(entry: VectorEntry): VectorCrls {
  const files = entry.files;
  if (files.collateral !== undefined) {
    const json = JSON.parse(Buffer.from(read(files.collateral)).toString("utf8"));
    return {
      pckCrl: json.pck_crl,
      rootCrl: json.root_ca_crl,
      tcbChain: json.tcb_info_issuer_chain,
    };
  }
  const out: { pckCrl?: CrlInput; rootCrl?: CrlInput; tcbChain?: string | Uint8Array } = {};
  if (files.pck_crl !== undefined) out.pckCrl = read(files.pck_crl);
  if (files.root_crl !== undefined) out.rootCrl = read(files.root_crl);
  if (files.tcb_info_chain !== undefined) out.tcbChain = read(files.tcb_info_chain);
  if (files.tcb_signing !== undefined) out.tcbChain = read(files.tcb_signing);
  if (files.pcs_certs !== undefined) {
    const names = readdirSync(TESTVECTORS + files.pcs_certs);
    const rootCrl = names.find((n) => /Root_CA_crl/.test(n));
    const signing = names.find((n) => /TCB_Signing/.test(n));
    assert.ok(rootCrl && signing, `${files.pcs_certs} lacks the root CRL or TCB signing cert`);
    out.rootCrl = read(files.pcs_certs + rootCrl);
    out.tcbChain = read(files.pcs_certs + signing);
  }
  return out;
}

const withCrls = VECTOR_INDEX.filter(
  (e) =>
    (e.tee === "tdx" || e.tee === "sgx") &&
    QUOTE_KEYS.some((k) => k in e.files) &&
    ["pck_crl", "root_crl", "collateral"].some((k) => k in e.files),
);

function assertCheck(
  check: Check | undefined,
  status: Check["status"],
  code: string,
  message?: RegExp,
) {
  assert.ok(check, "no check");
  assert.equal(check.status, status, check.message);
  assert.equal(check.code, code, check.message);
  if (message) assert.match(check.message, message);
}

async function vectorChain(id: string): Promise<{ chain: PckChain; now: Date; crls: VectorCrls }> {
  const entry = vectorEntry(id);
  const pem = quoteChainPem(entry);
  const [leaf] = parseCertificates(pem, id);
  assert.ok(leaf);
  const now = verifyTime(entry, leaf);
  return { chain: await verifyPckChain(pem, now), now, crls: crlsOf(entry) };
}

describe("the CRLs of every vector that ships them, at the vector's time", () => {
  test("the index has the vectors this suite expects", () => {
    assert.ok(withCrls.length >= 8, `only ${withCrls.length} entries`);
    assert.ok(
      withCrls.some((e) => e.id === "sgx/dcap-qvl"),
      "a Processor CA vector",
    );
  });

  for (const entry of withCrls) {
    test(entry.id, async () => {
      const { chain, now, crls } = await vectorChain(entry.id);
      const tcb =
        crls.tcbChain === undefined ? undefined : await verifyTcbSigningChain(crls.tcbChain, now);
      const checks = await checkCrls(crls, chain, tcb?.signer, now);
      assert.equal(checks.length, 2);
      const [root, pck] = checks;
      if (crls.rootCrl === undefined) {
        assertCheck(root, "skip", "dcap.crl.root", /^Revocation is unknown/);
      } else {
        assertCheck(
          root,
          "pass",
          "dcap.crl.root",
          new RegExp(
            `^The Root CA CRL signed by the pinned Intel SGX Root CA \\(current .*\\) does not list the ${chain.kind === "platform" ? "Intel SGX PCK Platform CA" : "Intel SGX PCK Processor CA"}${tcb === undefined ? "" : " or the Intel SGX TCB Signing certificate"}\\.$`,
          ),
        );
      }
      if (crls.pckCrl === undefined) {
        assertCheck(pck, "skip", "dcap.crl.pck", /^Revocation is unknown: no PCK CRL/);
      } else {
        assertCheck(pck, "pass", "dcap.crl.pck", /does not list the PCK certificate\.$/);
        // After its next update the same CRL is expired, and the message says when it was due.
        const crl = parseCrl(crls.pckCrl as Uint8Array | string);
        const next = crl.nextUpdate as Date;
        const later = new Date(next.getTime() + 1000);
        const [, expired] = await checkCrls({ pckCrl: crl }, chain, undefined, later);
        assertCheck(
          expired,
          "fail",
          "dcap.crl.expired",
          new RegExp(`next update was due ${next.toISOString().replace(/\./g, "\\.")}`),
        );
        // And before it was issued it is not yet current.
        const [, early] = await checkCrls(
          { pckCrl: crl },
          chain,
          undefined,
          new Date(crl.thisUpdate.getTime() - 1000),
        );
        assertCheck(early, "fail", "dcap.crl.expired", /is not yet current/);
      }
    });
  }

  test("go-tdx-guest SPR: the root CRL expires a year after issue, the PCK CRL after 30 days", async () => {
    const { chain, crls } = await vectorChain("tdx/go-tdx-guest-spr-v4");
    const at = new Date("2023-07-09T00:00:00Z");
    const checks = await checkCrls(crls, chain, undefined, at);
    assertCheck(checks[0], "pass", "dcap.crl.root");
    assertCheck(
      checks[1],
      "fail",
      "dcap.crl.expired",
      /PCK CRL expired: its next update was due 2023-07-08T07:27:52\.000Z/,
    );
    const [root] = await checkCrls(crls, chain, undefined, new Date("2024-04-03T00:00:00Z"));
    assertCheck(
      root,
      "fail",
      "dcap.crl.expired",
      /Root CA CRL expired: .* 2024-04-02T10:22:51\.000Z/,
    );
  });
});

describe("CRLs from the wrong issuer, or altered", () => {
  test("a Processor CA's PCK CRL against a Platform CA chain, and the reverse", async () => {
    const platform = await vectorChain("tdx/dcap-qvl-uptodate");
    const processor = await vectorChain("sgx/dcap-qvl");
    assert.equal(platform.chain.kind, "platform");
    assert.equal(processor.chain.kind, "processor");
    const [, wrong] = await checkCrls(
      { pckCrl: processor.crls.pckCrl },
      platform.chain,
      undefined,
      platform.now,
    );
    assertCheck(
      wrong,
      "fail",
      "dcap.crl.issuer",
      /^The PCK CRL is issued by "CN=Intel SGX PCK Processor CA, .*", not by the Intel SGX PCK Platform CA\.$/,
    );
    const [, reverse] = await checkCrls(
      { pckCrl: platform.crls.pckCrl },
      processor.chain,
      undefined,
      processor.now,
    );
    assertCheck(
      reverse,
      "fail",
      "dcap.crl.issuer",
      /Platform CA.*not by the Intel SGX PCK Processor CA/,
    );
  });

  test("a root CRL in the PCK CRL's place, and a PCK CRL in the root CRL's", async () => {
    const { chain, now, crls } = await vectorChain("tdx/go-tdx-guest-spr-v4");
    const swapped = await checkCrls(
      { pckCrl: crls.rootCrl, rootCrl: crls.pckCrl },
      chain,
      undefined,
      now,
    );
    assertCheck(
      swapped[0],
      "fail",
      "dcap.crl.issuer",
      /Root CA CRL is issued by "CN=Intel SGX PCK Platform CA/,
    );
    assertCheck(
      swapped[1],
      "fail",
      "dcap.crl.issuer",
      /PCK CRL is issued by "CN=Intel SGX Root CA/,
    );
  });

  test("an Intel CRL with one listed serial changed no longer verifies", async () => {
    const { chain, now, crls } = await vectorChain("tdx/go-tdx-guest-spr-v4");
    const der = new Uint8Array(crls.pckCrl as Uint8Array);
    const original = parseCrl(der);
    const serial = Buffer.from(original.entries[0]?.serialNumber ?? "", "hex");
    const at = Buffer.from(der).indexOf(serial);
    assert.ok(at > 0);
    der[at + serial.length - 1] = (der[at + serial.length - 1] as number) ^ 0x01;
    const [, check] = await checkCrls({ pckCrl: der }, chain, undefined, now);
    assertCheck(
      check,
      "fail",
      "dcap.crl.signature",
      /^The PCK CRL's signature does not verify with the Intel SGX PCK Platform CA's key/,
    );
  });

  test("a CRL in the Intel root's name, signed by another key", async () => {
    const { chain, now } = await vectorChain("tdx/go-tdx-guest-spr-v4");
    const forged = await X509CrlGenerator.create({
      issuer: intelRoot().subject,
      thisUpdate: new Date(now.getTime() - DAY),
      nextUpdate: new Date(now.getTime() + DAY),
      entries: [],
      signingKey: (await p256()).privateKey,
      signingAlgorithm: ECDSA,
    });
    const [root] = await checkCrls({ rootCrl: forged }, chain, undefined, now);
    assertCheck(root, "fail", "dcap.crl.signature", /pinned Intel SGX Root CA's key/);
  });
});

describe("revocation", () => {
  test("a PCK certificate whose serial an Intel PCK CRL lists is revoked", async () => {
    // Intel signed the CRL; the PCK in the chain is replaced by one with a listed serial, which
    // checkCrls takes from the chain as verified (it does not re-verify the chain).
    const { chain, now, crls } = await vectorChain("tdx/automata-gcp-v4");
    const crl = parseCrl(crls.pckCrl as Uint8Array);
    // One whose first byte has the top bit set: DER writes it with a leading zero byte.
    const listed = crl.entries.find((e) => /^[89a-f]/i.test(e.serialNumber));
    assert.ok(listed);
    const keys = await p256();
    const leaf = await X509CertificateGenerator.createSelfSigned({
      name: "CN=Intel SGX PCK Certificate",
      keys,
      serialNumber: listed.serialNumber,
      signingAlgorithm: ECDSA,
    });
    const [, pck] = await checkCrls({ pckCrl: crl }, { ...chain, leaf }, undefined, now);
    assertCheck(
      pck,
      "fail",
      "dcap.revoked",
      new RegExp(
        `^The PCK CRL lists the PCK certificate \\(serial ${listed.serialNumber.toLowerCase().replace(/^0+/, "")}\\) as revoked on ${listed.revocationDate.toISOString().replace(/\./g, "\\.")}`,
      ),
    );
  });

  test("without CRLs, revocation is unknown: a skip for each", async () => {
    const { chain, now } = await vectorChain("tdx/go-tdx-guest-spr-v4");
    const checks = await checkCrls({}, chain, intelRoot(), now);
    assertCheck(
      checks[0],
      "skip",
      "dcap.crl.root",
      /Platform CA or the TCB Signing certificate was not checked/,
    );
    assertCheck(checks[1], "skip", "dcap.crl.pck", /PCK CRL of the Intel SGX PCK Platform CA/);
  });
});

// ---------------------------------------------------------------------------------------------

const NOW = new Date("2025-06-01T00:00:00Z");
const days = (n: number) => new Date(NOW.getTime() + n * DAY);

function p256(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
    "sign",
    "verify",
  ]) as Promise<CryptoKeyPair>;
}

const rootKeys = await p256();
const testRoot = await X509CertificateGenerator.createSelfSigned({
  name: "CN=Test SGX Root CA",
  keys: rootKeys,
  signingAlgorithm: ECDSA,
});
async function issued(name: string, serialNumber: string): Promise<X509Certificate> {
  return X509CertificateGenerator.create({
    subject: `CN=${name}`,
    issuer: testRoot.subject,
    publicKey: (await p256()).publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: ECDSA,
    serialNumber,
  });
}
const platformCa = await issued("Test PCK Platform CA", "00a1b2");
const tcbSigning = await issued("Test TCB Signing", "7e38");
const issuer = { certificate: testRoot, key: rootKeys.publicKey, name: "the test root" };
const label = { code: "dcap.crl.root", name: "Root CA CRL" };
const subjects = [
  { certificate: platformCa, name: "Platform CA" },
  { certificate: tcbSigning, name: "TCB Signing certificate" },
];

async function testCrl(
  entries: X509CrlEntryParams[],
  window: { thisUpdate?: Date; nextUpdate?: Date | null } = {},
): Promise<X509Crl> {
  const next = window.nextUpdate === undefined ? days(30) : window.nextUpdate;
  const made = await X509CrlGenerator.create({
    issuer: testRoot.subject,
    thisUpdate: window.thisUpdate ?? days(-1),
    ...(next === null ? {} : { nextUpdate: next }),
    entries,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: ECDSA,
  });
  return parseCrl(new Uint8Array(made.rawData));
}

describe("checkCrlWith, with a test CA in the Intel root's place", () => {
  test("a current CRL listing neither subject passes", async () => {
    const crl = await testCrl([{ serialNumber: "0b", revocationDate: days(-3) }]);
    const checks = await checkCrlWith(crl, label, issuer, subjects, NOW);
    assert.equal(checks.length, 1);
    assertCheck(
      checks[0],
      "pass",
      "dcap.crl.root",
      /^The Root CA CRL signed by the test root \(current .* to .*\) does not list the Platform CA or the TCB Signing certificate\.$/,
    );
  });

  test("every listed subject is a fail of its own, and so is staleness", async () => {
    const entries: X509CrlEntryParams[] = [
      { serialNumber: "a1b2", revocationDate: days(-10), reason: X509CrlReason.keyCompromise },
      { serialNumber: "7e38", revocationDate: days(-5) },
    ];
    const current = await checkCrlWith(await testCrl(entries), label, issuer, subjects, NOW);
    assert.deepEqual(
      current.map((c) => [c.status, c.code]),
      [
        ["fail", "dcap.revoked"],
        ["fail", "dcap.revoked"],
      ],
    );
    // The DER serial 00a1b2 and the CRL's a1b2 are the same number.
    assert.match(
      current[0]?.message ?? "",
      /lists the Platform CA \(serial a1b2\) as revoked on 2025-05-22/,
    );
    assert.match(current[1]?.message ?? "", /lists the TCB Signing certificate \(serial 7e38\)/);
    const stale = await testCrl(entries, { thisUpdate: days(-40), nextUpdate: days(-1) });
    const all = await checkCrlWith(stale, label, issuer, subjects, NOW);
    assert.deepEqual(
      all.map((c) => c.code),
      ["dcap.revoked", "dcap.revoked", "dcap.crl.expired"],
    );
    assert.match(all[2]?.message ?? "", /next update was due 2025-05-31T00:00:00\.000Z/);
  });

  test("the window's edges are inside it; outside, the CRL is expired", async () => {
    const crl = await testCrl([], { thisUpdate: NOW, nextUpdate: days(1) });
    assertCheck(
      (await checkCrlWith(crl, label, issuer, subjects, NOW))[0],
      "pass",
      "dcap.crl.root",
    );
    assertCheck(
      (await checkCrlWith(crl, label, issuer, subjects, days(1)))[0],
      "pass",
      "dcap.crl.root",
    );
    assertCheck(
      (await checkCrlWith(crl, label, issuer, subjects, new Date(NOW.getTime() - 1)))[0],
      "fail",
      "dcap.crl.expired",
      /not yet current at .*: it is current from 2025-06-01T00:00:00\.000Z to 2025-06-02/,
    );
    assertCheck(
      (await checkCrlWith(crl, label, issuer, subjects, new Date(days(1).getTime() + 1)))[0],
      "fail",
      "dcap.crl.expired",
    );
  });

  test("a CRL without a next update cannot be judged current: a warning", async () => {
    const open = await testCrl([], { nextUpdate: null });
    assert.equal(open.nextUpdate, undefined);
    assertCheck(
      (await checkCrlWith(open, label, issuer, subjects, NOW))[0],
      "warn",
      "dcap.crl.root",
      /names no next update/,
    );
  });

  test("another issuer's name or key decides nothing", async () => {
    const other = await p256();
    const forged = await X509CrlGenerator.create({
      issuer: testRoot.subject,
      nextUpdate: days(30),
      entries: [],
      signingKey: other.privateKey,
      signingAlgorithm: ECDSA,
    });
    const signature = await checkCrlWith(
      parseCrl(new Uint8Array(forged.rawData)),
      label,
      issuer,
      subjects,
      NOW,
    );
    assert.deepEqual(
      signature.map((c) => c.code),
      ["dcap.crl.signature"],
    );
    const named = await X509CrlGenerator.create({
      issuer: platformCa.subject,
      nextUpdate: days(30),
      entries: [{ serialNumber: "a1b2", revocationDate: days(-1) }],
      signingKey: rootKeys.privateKey,
      signingAlgorithm: ECDSA,
    });
    const wrong = await checkCrlWith(
      parseCrl(new Uint8Array(named.rawData)),
      label,
      issuer,
      subjects,
      NOW,
    );
    assert.deepEqual(
      wrong.map((c) => c.code),
      ["dcap.crl.issuer"],
    );
    assert.match(
      wrong[0]?.message ?? "",
      /issued by "CN=Test PCK Platform CA", not by the test root/,
    );
  });
});

describe("parseCrl", () => {
  const der = read("tdx/go-tdx-guest-spr-v4/rootcrl.der");
  const hex = Buffer.from(der).toString("hex");

  function malformed(input: Uint8Array | string, message: RegExp): void {
    assert.throws(
      () => parseCrl(input),
      (error) => {
        assert.ok(error instanceof ParseError, `${error}`);
        assert.equal(error.code, "dcap.crl.malformed");
        assert.match(error.message, message);
        return true;
      },
    );
  }

  test("DER, PEM (either label) and the hex text of PCS JSON load to the same CRL", () => {
    const base64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n");
    const json = JSON.parse(Buffer.from(read("sgx/dcap-qvl/sgx_quote_collateral.json")).toString());
    assert.match(json.root_ca_crl, /^30[0-9a-f]+$/);
    for (const input of [
      der,
      hex,
      `  ${hex.toUpperCase()}\n`,
      new TextEncoder().encode(hex),
      `-----BEGIN X509 CRL-----\n${base64}\n-----END X509 CRL-----\n`,
      `Intel root CRL\n-----BEGIN CRL-----\n${base64}\n-----END CRL-----\n`,
    ]) {
      assert.deepEqual(new Uint8Array(parseCrl(input).rawData), der);
    }
    assert.equal(parseCrl(json.root_ca_crl).issuer, intelRoot().subject);
  });

  test("anything else is refused", () => {
    malformed("", /not 0 blocks/);
    malformed(hex.slice(1), /not 0 blocks/);
    malformed(new Uint8Array([0xde, 0xad, 0xbe, 0xef]), /neither DER/);
    malformed(der.subarray(0, der.length - 1), /declares \d+ bytes of DER but holds/);
    malformed(hex.slice(0, -2), /declares \d+ bytes of DER but holds/);
    malformed(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), /not a well-formed X.509 CRL/);
    malformed(new Uint8Array(intelRoot().rawData), /not a well-formed X.509 CRL/);
    assert.throws(() => parseCrl("00", "the PCK CRL"), /^ParseError: the PCK CRL at offset 0/);
  });
});
