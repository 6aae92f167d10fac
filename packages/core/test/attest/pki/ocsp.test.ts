import assert from "node:assert/strict";
import { before, test } from "node:test";
import fc from "fast-check";
import { verifyOcspResponse } from "../../../src/attest/pki/ocsp.js";
import { CloisterError } from "../../../src/errors.js";
import { type Issued, issue, OCSP_SIGNING, type OcspInput, ocspResponse } from "./ocsp-support.js";

const NOW = new Date("2026-06-01T12:00:00Z");
const HOUR = 3600_000;
const THIS_UPDATE = new Date(NOW.getTime() - HOUR);
const NEXT_UPDATE = new Date(NOW.getTime() + 24 * HOUR);

let ca: Issued;
let leaf: Issued;
let other: Issued;

before(async () => {
  ca = await issue({ cn: "Test Issuing CA", ca: true });
  leaf = await issue({ cn: "Test Leaf", issuer: ca });
  other = await issue({ cn: "Test Other Leaf", issuer: ca });
});

function response(overrides: Partial<OcspInput> = {}): Promise<Uint8Array> {
  return ocspResponse({
    certificate: leaf.cert,
    issuer: ca.cert,
    signer: ca.keys,
    status: "good",
    thisUpdate: THIS_UPDATE,
    nextUpdate: NEXT_UPDATE,
    ...overrides,
  });
}

const verify = (der: Uint8Array, now = NOW) =>
  verifyOcspResponse(der, { certificate: leaf.cert, issuer: ca.cert, now });

async function rejects(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof CloisterError, `not a CloisterError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

test("a good response signed by the issuer", async () => {
  const status = await verify(await response());
  assert.deepEqual(status, { status: "good", thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE });
});

for (const hash of ["SHA-1", "SHA-256", "SHA-384"] as const) {
  test(`the CertID may hash with ${hash}`, async () => {
    assert.equal((await verify(await response({ hash }))).status, "good");
  });
}

test("a revoked response gives the time and reason", async () => {
  const revokedAt = new Date("2026-05-01T00:00:00Z");
  const status = await verify(
    await response({ status: "revoked", revokedAt, reason: "keyCompromise" }),
  );
  assert.deepEqual(status, {
    status: "revoked",
    revokedAt,
    reason: "keyCompromise",
    thisUpdate: THIS_UPDATE,
    nextUpdate: NEXT_UPDATE,
  });
  const bare = await verify(await response({ status: "revoked", revokedAt }));
  assert.equal(bare.status, "revoked");
  assert.ok(!("reason" in bare));
});

test("an unknown status is reported as such", async () => {
  assert.equal((await verify(await response({ status: "unknown" }))).status, "unknown");
});

test("a response without nextUpdate is current", async () => {
  const status = await verify(await response({ nextUpdate: undefined }));
  assert.equal(status.status, "good");
  assert.equal(status.nextUpdate, undefined);
});

test("a stale response (nextUpdate before now) is refused", async () => {
  await rejects(verify(await response({ nextUpdate: new Date(NOW.getTime() - 1) })), "ocsp.stale");
});

test("a response from the future (thisUpdate after now) is refused", async () => {
  await rejects(
    verify(await response({ thisUpdate: new Date(NOW.getTime() + HOUR) })),
    "ocsp.not_yet_valid",
  );
});

test("a response signed by an unrelated key is refused", async () => {
  const stranger = await issue({ cn: "Stranger", ca: true });
  await rejects(verify(await response({ signer: stranger.keys })), "ocsp.signature");
  // Even when it includes its own certificate.
  await rejects(
    verify(await response({ signer: stranger.keys, signerCert: stranger.cert })),
    "ocsp.signature",
  );
});

test("a delegated responder the issuer certified for OCSP signing is accepted", async () => {
  const responder = await issue({ cn: "Test OCSP Responder", issuer: ca, eku: [OCSP_SIGNING] });
  const der = await response({ signer: responder.keys, signerCert: responder.cert });
  assert.equal((await verify(der)).status, "good");
});

test("a delegated responder without the OCSP-signing EKU is refused", async () => {
  const responder = await issue({ cn: "Not A Responder", issuer: ca });
  await rejects(
    verify(await response({ signer: responder.keys, signerCert: responder.cert })),
    "ocsp.responder_unauthorized",
  );
  const serverAuth = await issue({ cn: "TLS Server", issuer: ca, eku: ["1.3.6.1.5.5.7.3.1"] });
  await rejects(
    verify(await response({ signer: serverAuth.keys, signerCert: serverAuth.cert })),
    "ocsp.responder_unauthorized",
  );
});

test("an expired delegated responder is refused", async () => {
  const responder = await issue({
    cn: "Expired Responder",
    issuer: ca,
    eku: [OCSP_SIGNING],
    notAfter: new Date(NOW.getTime() - HOUR),
  });
  await rejects(
    verify(await response({ signer: responder.keys, signerCert: responder.cert })),
    "ocsp.responder_unauthorized",
  );
});

test("an OCSP responder certified by another CA is refused", async () => {
  const elsewhere = await issue({ cn: "Other CA", ca: true });
  const responder = await issue({ cn: "Their Responder", issuer: elsewhere, eku: [OCSP_SIGNING] });
  await rejects(
    verify(await response({ signer: responder.keys, signerCert: responder.cert })),
    "ocsp.signature",
  );
});

test("a response about another serial, or another certificate, names no status for this one", async () => {
  await rejects(verify(await response({ serial: "0badc0de" })), "ocsp.cert_id");
  await rejects(verify(await response({ certificate: other.cert })), "ocsp.cert_id");
});

test("a response of the right serial from another issuer does not match", async () => {
  const elsewhere = await issue({ cn: "Other CA", ca: true });
  const der = await response({ issuer: elsewhere.cert, signer: elsewhere.keys });
  await rejects(verify(der), "ocsp.cert_id");
});

test("an unsuccessful response status is refused", async () => {
  await rejects(verify(await response({ responseStatus: 3 })), "ocsp.response_status");
});

test("an invalid verification time is refused", async () => {
  await rejects(verify(await response(), new Date(Number.NaN)), "verify.now");
});

test("malformed bytes give typed errors, never an untyped throw", async () => {
  const good = await response({ status: "revoked", reason: "superseded" });
  for (const bytes of [
    new Uint8Array(),
    Uint8Array.of(0x30),
    Uint8Array.of(0x30, 0x00),
    good.slice(0, 40),
  ]) {
    await rejects(verify(bytes), "ocsp.malformed");
  }
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: good.length - 1 }),
      fc.integer({ min: 0, max: 255 }),
      async (at, value) => {
        const mutated = good.slice();
        mutated[at] = value;
        try {
          const status = await verify(mutated);
          // A byte that changes nothing signed (or nothing at all) may still verify.
          assert.equal(status.status, "revoked");
        } catch (error) {
          assert.ok(error instanceof CloisterError, `untyped: ${String(error)}`);
          assert.match(error.code, /^ocsp\./);
        }
      },
    ),
    { numRuns: 300 },
  );
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
      await assert.rejects(verify(bytes), CloisterError);
    }),
    { numRuns: 200 },
  );
});
