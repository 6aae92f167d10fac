import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type AttestationResult,
  attest,
  type Evidence,
  fromBase64Url,
  PLATFORMS,
  type Policy,
  SIMULATED_JWS_TYPE,
  toBase64Url,
  utf8,
} from "@cloister/core";
import fc from "fast-check";
import { NOW, REPORT_DATA, simulatedSigner } from "./simulated-fixture.js";

const signer = await simulatedSigner();
const valid = await signer.sign();
const lenient: Policy = {
  platforms: PLATFORMS,
  simulatedRoots: [signer.publicJwk],
  allowDebug: true,
};
const validClaims = (await attest(valid, lenient, { now: NOW })).claims;

/** The property every input must keep: attest() answers, and never with "affirming". */
async function neverAffirming(evidence: Evidence): Promise<AttestationResult> {
  const result = await attest(evidence, lenient, { now: NOW, expectedReportData: REPORT_DATA });
  assert.notEqual(result.verdict, "affirming");
  assert.ok(result.checks.length > 0);
  return result;
}

test("random bytes under any platform and format never throw and are never affirming", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...PLATFORMS),
      fc.constantFrom("simulated-jws", "snp-report", "tdx-quote", "x"),
      fc.uint8Array({ maxLength: 2048 }),
      async (platform, format, data) => {
        await neverAffirming({ platform, format, data });
      },
    ),
    { numRuns: 300 },
  );
});

test("well-formed JWS with random headers, fields and signatures is never affirming", async () => {
  const [validHeader, validPayload, validSignature] = new TextDecoder()
    .decode(valid.data)
    .split(".") as [string, string, string];
  const json = (part: string) =>
    JSON.parse(new TextDecoder().decode(fromBase64Url(part))) as Record<string, unknown>;
  const encode = (value: unknown) => toBase64Url(utf8(JSON.stringify(value)));
  const header = fc.record(
    {
      alg: fc.constantFrom("ES384", "ES256", "none", "HS384"),
      typ: fc.constantFrom(SIMULATED_JWS_TYPE, "JWT"),
      kid: fc.constantFrom(signer.id, "other"),
      crit: fc.constant(["b64"]),
      b64: fc.boolean(),
    },
    { requiredKeys: [] },
  );
  const fields = fc.dictionary(
    fc.constantFrom("v", "platform", "measurement", "report_data", "debug", "instance_id", "iat"),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const signature = fc.oneof(
    fc.constant(validSignature),
    fc.uint8Array({ maxLength: 120 }).map(toBase64Url),
  );
  await fc.assert(
    fc.asyncProperty(header, fields, signature, async (h, f, sig) => {
      const text = `${encode({ ...json(validHeader), ...h })}.${encode({ ...json(validPayload), ...f })}.${sig}`;
      await neverAffirming({ ...valid, data: utf8(text) });
    }),
    { numRuns: 300 },
  );
});

test("mutated valid evidence never throws, is never affirming, and never changes the claims", async () => {
  const mutation = fc.oneof(
    fc.record({
      kind: fc.constant("set" as const),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({
      kind: fc.constant("flip" as const),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant("insert" as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
      let data = new Uint8Array(valid.data);
      for (const m of mutations) {
        const at = m.at % (data.length + 1);
        if (m.kind === "set" && at < data.length) data[at] = m.byte;
        if (m.kind === "flip" && at < data.length) data[at] = (data[at] ?? 0) ^ (1 << m.bit);
        if (m.kind === "cut") data = data.slice(0, at);
        if (m.kind === "insert")
          data = new Uint8Array([...data.slice(0, at), ...m.bytes, ...data.slice(at)]);
      }
      const result = await neverAffirming({ ...valid, data });
      // A mutation that still verifies (whitespace, a non-canonical base64url tail) changes nothing.
      if (result.verdict !== "contraindicated") assert.deepEqual(result.claims, validClaims);
    }),
    { numRuns: 500 },
  );
});
