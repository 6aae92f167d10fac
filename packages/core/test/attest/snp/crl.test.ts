import "../../../src/attest/pki/x509.js";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  X509CertificateGenerator,
  type X509CrlEntryParams,
  X509CrlGenerator,
  X509CrlReason,
} from "@peculiar/x509";
import type { X509Certificate, X509Crl } from "../../../src/attest/pki/x509.js";
import { checkRevocation, checkRevocationWith, parseCrl } from "../../../src/attest/snp/crl.js";
import { amdRoots } from "../../../src/attest/snp/roots.js";
import type { Check } from "../../../src/attest/types.js";
import { ParseError } from "../../../src/errors.js";

/**
 * Nobody outside AMD can sign an AMD CRL, so the CRL logic is exercised with a test CA that signs
 * the way the ARK does (RSASSA-PSS, SHA-384, salt 48), and the public function is shown to refuse
 * CRLs that only claim to be AMD's.
 */

const PSS = { name: "RSA-PSS", saltLength: 48 } as Algorithm;
const NOW = new Date("2025-06-01T00:00:00Z");
const DAY = 86_400_000;
const days = (n: number) => new Date(NOW.getTime() + n * DAY);

const rsaPss = () =>
  crypto.subtle.generateKey(
    {
      name: "RSA-PSS",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-384",
    },
    false,
    ["sign", "verify"],
  );

const caKeys = await rsaPss();
const otherKeys = await rsaPss();
const ca = await X509CertificateGenerator.createSelfSigned({
  name: "O=Test, CN=ARK-Test",
  keys: caKeys,
  signingAlgorithm: PSS,
  notBefore: days(-365),
  notAfter: days(365),
});
const intermediate = await X509CertificateGenerator.create({
  subject: "O=Test, CN=SEV-Test",
  issuer: ca.subjectName,
  publicKey: otherKeys.publicKey,
  signingKey: caKeys.privateKey,
  signingAlgorithm: PSS,
  serialNumber: "010001",
  notBefore: days(-365),
  notAfter: days(365),
});
const issuer = { certificate: ca, key: caKeys.publicKey, name: "the test ARK" };
const subject = { certificate: intermediate, name: "ASK-Test" };

interface CrlOptions {
  entries?: X509CrlEntryParams[];
  thisUpdate?: Date;
  nextUpdate?: Date | null;
  issuerName?: X509Certificate["subjectName"];
  signingKey?: CryptoKey;
}

async function crl(options: CrlOptions = {}): Promise<X509Crl> {
  const next = options.nextUpdate === undefined ? days(30) : options.nextUpdate;
  const made = await X509CrlGenerator.create({
    issuer: options.issuerName ?? ca.subjectName,
    thisUpdate: options.thisUpdate ?? days(-1),
    ...(next === null ? {} : { nextUpdate: next }),
    entries: options.entries ?? [],
    signingKey: options.signingKey ?? caKeys.privateKey,
    signingAlgorithm: PSS,
  });
  // Through the parser, as AMD's DER would arrive.
  return parseCrl(new Uint8Array(made.rawData));
}

function assertCheck(check: Check, status: Check["status"], code: string, message?: RegExp) {
  assert.equal(check.status, status, check.message);
  assert.equal(check.code, code);
  if (message) assert.match(check.message, message);
}

const revokedIntermediate: X509CrlEntryParams = {
  serialNumber: "010001",
  revocationDate: days(-10),
  reason: X509CrlReason.keyCompromise,
};

describe("CRL logic, with a test CA in the ARK's place", () => {
  test("a current CRL that does not list the intermediate passes", async () => {
    const list = await crl({ entries: [{ serialNumber: "010002", revocationDate: days(-5) }] });
    assertCheck(
      await checkRevocationWith(list, issuer, subject, NOW),
      "pass",
      "snp.revocation",
      /^The CRL signed by the test ARK \(current .* to .*\) does not list the ASK-Test\.$/,
    );
  });

  test("a CRL that lists the intermediate's serial fails, naming it", async () => {
    const list = await crl({ entries: [revokedIntermediate] });
    assertCheck(
      await checkRevocationWith(list, issuer, subject, NOW),
      "fail",
      "snp.revoked",
      /lists the ASK-Test \(serial 10001\) as revoked on 2025-05-22T00:00:00\.000Z/,
    );
    // Revocation is permanent: a stale CRL that lists it still says revoked.
    const stale = await crl({
      entries: [revokedIntermediate],
      nextUpdate: days(-2),
      thisUpdate: days(-40),
    });
    assertCheck(await checkRevocationWith(stale, issuer, subject, NOW), "fail", "snp.revoked");
  });

  test("a CRL past its next update, or issued after now, is stale", async () => {
    const expired = await crl({ thisUpdate: days(-40), nextUpdate: days(-1) });
    assertCheck(
      await checkRevocationWith(expired, issuer, subject, NOW),
      "fail",
      "snp.crl.stale",
      /next update was due 2025-05-31T00:00:00\.000Z/,
    );
    const future = await crl({ thisUpdate: days(1), nextUpdate: days(30) });
    assertCheck(
      await checkRevocationWith(future, issuer, subject, NOW),
      "fail",
      "snp.crl.stale",
      /after the verification time/,
    );
    // The edges are inside the window.
    const edges = await crl({ thisUpdate: NOW, nextUpdate: days(1) });
    assertCheck(await checkRevocationWith(edges, issuer, subject, NOW), "pass", "snp.revocation");
    assertCheck(
      await checkRevocationWith(edges, issuer, subject, days(1)),
      "pass",
      "snp.revocation",
    );
  });

  test("a CRL without a next update cannot be judged current: a warning", async () => {
    const open = await crl({ nextUpdate: null });
    assert.equal(open.nextUpdate, undefined);
    assertCheck(
      await checkRevocationWith(open, issuer, subject, NOW),
      "warn",
      "snp.crl.stale",
      /names no next update/,
    );
  });

  test("a CRL signed by another key, or altered, fails its signature", async () => {
    const forged = await crl({ signingKey: otherKeys.privateKey });
    assertCheck(
      await checkRevocationWith(forged, issuer, subject, NOW),
      "fail",
      "snp.crl.signature",
      /does not verify with the test ARK/,
    );
    // Drop the listed entry from a genuine CRL by rewriting its serial: the signature breaks.
    const genuine = new Uint8Array((await crl({ entries: [revokedIntermediate] })).rawData);
    const at = indexOf(genuine, [0x02, 0x03, 0x01, 0x00, 0x01]);
    assert.ok(at > 0);
    genuine[at + 4] = 0x02;
    const altered = parseCrl(genuine);
    assertCheck(
      await checkRevocationWith(altered, issuer, subject, NOW),
      "fail",
      "snp.crl.signature",
    );
  });

  test("a CRL from another issuer fails as such", async () => {
    const list = await crl({ issuerName: intermediate.subjectName });
    assertCheck(
      await checkRevocationWith(list, issuer, subject, NOW),
      "fail",
      "snp.crl.issuer",
      /CN=SEV-Test.*not by the test ARK/,
    );
  });
});

describe("checkRevocation against the pinned AMD ARKs", () => {
  test("without a CRL, revocation is unknown (skip)", async () => {
    assertCheck(
      await checkRevocation(undefined, "Milan", "vcek", NOW),
      "skip",
      "snp.revocation",
      /no AMD CRL for Milan was supplied.*ASK/,
    );
    assertCheck(
      await checkRevocation(undefined, "Genoa", "vlek", NOW),
      "skip",
      "snp.revocation",
      /ASVK/,
    );
  });

  test("a CRL in the ARK's name but not signed by AMD fails its signature", async () => {
    const ark = amdRoots("Milan").ark;
    const fake = await crl({ issuerName: ark.subjectName, entries: [] });
    assert.equal(fake.issuer, ark.subject);
    assertCheck(
      await checkRevocation(fake, "Milan", "vcek", NOW),
      "fail",
      "snp.crl.signature",
      /does not verify with the pinned AMD ARK-Milan/,
    );
  });

  test("a CRL from another product's ARK or another issuer fails as from another issuer", async () => {
    const genoa = await crl({ issuerName: amdRoots("Genoa").ark.subjectName });
    assertCheck(
      await checkRevocation(genoa, "Milan", "vcek", NOW),
      "fail",
      "snp.crl.issuer",
      /ARK-Genoa/,
    );
    assertCheck(await checkRevocation(await crl(), "Turin", "vlek", NOW), "fail", "snp.crl.issuer");
  });
});

describe("parseCrl", () => {
  function malformed(input: Uint8Array | string, message: RegExp): void {
    assert.throws(
      () => parseCrl(input),
      (error) => {
        assert.ok(error instanceof ParseError, `${error}`);
        assert.equal(error.code, "snp.crl.malformed");
        assert.match(error.message, message);
        return true;
      },
    );
  }

  test("DER and PEM (either label) load to the same CRL", async () => {
    const list = await crl({ entries: [revokedIntermediate] });
    const base64 = Buffer.from(list.rawData).toString("base64").replace(/.{64}/g, "$&\n");
    const rfc7468 = `-----BEGIN X509 CRL-----\n${base64}\n-----END X509 CRL-----\n`;
    const short = list.toString("pem");
    assert.match(short, /^-----BEGIN CRL-----/);
    for (const input of [
      rfc7468,
      short,
      new TextEncoder().encode(`AMD CRL\n${rfc7468}\n`),
      new Uint8Array(list.rawData),
    ]) {
      const parsed = parseCrl(input);
      assert.deepEqual(new Uint8Array(parsed.rawData), new Uint8Array(list.rawData));
      assert.equal(parsed.entries.length, 1);
    }
  });

  test("anything else is refused", async () => {
    const der = new Uint8Array((await crl()).rawData);
    malformed("no crl here", /one PEM CRL block, not 0 blocks/);
    malformed(`${(await crl()).toString("pem")}\n${(await crl()).toString("pem")}`, /not 2 blocks/);
    malformed(new Uint8Array([0xde, 0xad, 0xbe, 0xef]), /neither DER/);
    malformed(der.subarray(0, der.length - 1), /declares \d+ bytes of DER but holds/);
    malformed(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), /not a well-formed X.509 CRL/);
    // A certificate is not a CRL.
    malformed(new Uint8Array(amdRoots("Milan").ark.rawData), /not a well-formed X.509 CRL/);
  });
});

function indexOf(haystack: Uint8Array, needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
