import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { encode, Tag } from "cbor2";
import type { Policy } from "../../../src/attest/policy.js";
import {
  appraisePsa,
  PSA_COLLATERAL,
  PSA_TOKEN_FORMAT,
  type PsaPlatformClaims,
  parsePsaPolicy,
  parsePsaToken,
  psaMeasurement,
  psaVerifier,
} from "../../../src/attest/psa/index.js";
import type { Claims, Evidence, VerifyContext } from "../../../src/attest/types.js";
import { CloisterError } from "../../../src/errors.js";
import { TESTVECTORS, VECTOR_INDEX, vectorEntry } from "../../support/testvectors.js";

const read = (path: string) => new Uint8Array(readFileSync(`${TESTVECTORS}${path}`));
const text = (path: string) => readFileSync(`${TESTVECTORS}${path}`, "utf8");
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

const P2 = vectorEntry("psa/tf-m-p2-sign1");
const P1 = vectorEntry("psa/tf-m-p1-sign1");
const MAC0 = vectorEntry("psa/tf-m-mac0");
const PEM = text(P2.files.key as string);
const INSTANCE = P2.source_asserts?.["instance-id (256)"] as string;

const evidence = (data: Uint8Array, format = PSA_TOKEN_FORMAT): Evidence => ({
  platform: "psa",
  format,
  data,
});
const context = (endorsements?: string): VerifyContext => ({
  now: new Date("2025-01-01T00:00:00Z"),
  collateral: endorsements === undefined ? {} : { [PSA_COLLATERAL.endorsements]: endorsements },
  simulatedRoots: [],
});
const flip = (bytes: Uint8Array, at: number) => {
  bytes[at] = (bytes[at] as number) ^ 0x01;
};
const store = (instanceId: string, key: unknown) => JSON.stringify({ keys: [{ instanceId, key }] });

async function rejects(promise: Promise<unknown>, code: string | RegExp): Promise<CloisterError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CloisterError, `a CloisterError, not ${String(error)}`);
    if (typeof code === "string") assert.equal(error.code, code, error.message);
    else assert.match(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${String(code)}`);
}

/** The golden P2 claims, read from the CBOR diagnostic notation the corpus ships. */
function goldenFromDiag(diag: string) {
  const top = (key: number) => {
    const m = new RegExp(`\\b${key}: (h'([0-9A-F]*)'|"([^"]*)"|(\\d+))`).exec(diag);
    assert.ok(m, `diag has ${key}`);
    return m[2] !== undefined ? m[2].toLowerCase() : (m[3] ?? Number(m[4]));
  };
  const components = [...diag.matchAll(/\{([^{}]*)\}/g)].map(([, body]) => {
    const field = (key: number) =>
      new RegExp(`\\b${key}: (?:h'([0-9A-F]*)'|"([^"]*)")`).exec(body as string);
    return {
      type: field(1)?.[2],
      value: field(2)?.[1]?.toLowerCase(),
      version: field(4)?.[2],
      signerId: field(5)?.[1]?.toLowerCase(),
      description: field(6)?.[2],
    };
  });
  return {
    nonce: top(10),
    bootSeed: top(2397),
    instanceId: top(256),
    implementationId: top(2396),
    clientId: top(2394),
    lifecycle: top(2395),
    verificationService: top(2400),
    profile: top(265),
    certificationReference: top(2398),
    components,
  };
}

const GOLDEN = goldenFromDiag(text(P2.files.claims_diag as string));

function assertGolden(claims: Claims, profile: string) {
  const psa = claims.platformClaims as unknown as PsaPlatformClaims;
  const asserts = P2.source_asserts ?? {};
  assert.equal(claims.platform, "psa");
  assert.equal(psa.profile, profile);
  assert.equal(psa.instanceId, GOLDEN.instanceId);
  assert.equal(psa.instanceId, asserts["instance-id (256)"]);
  assert.equal(claims.hardwareId, GOLDEN.instanceId);
  assert.equal(psa.implementationId, GOLDEN.implementationId);
  assert.equal(psa.implementationId, asserts["implementation-id (2396)"]);
  assert.equal(psa.clientId, GOLDEN.clientId);
  assert.equal(psa.clientId, asserts["client-id (2394)"]);
  assert.deepEqual(psa.lifecycle, { value: asserts["lifecycle (2395)"], name: "secured" });
  assert.equal(psa.bootSeed, GOLDEN.bootSeed);
  assert.equal(psa.nonce, GOLDEN.nonce);
  assert.equal(psa.verificationService, asserts["verification service (2400)"]);
  const reference = asserts["cert ref (2398)"];
  if (profile === GOLDEN.profile) assert.equal(psa.certificationReference, reference);
  else assert.equal(psa.hardwareVersion, reference);
  if (profile === GOLDEN.profile) {
    assert.deepEqual(psa.softwareComponents, GOLDEN.components);
  } else {
    // The P1 samples measure a different SPE build than the P2 one (and differ between
    // themselves): everything but the SPE measurement value is the golden one.
    const withoutSpeValue = (list: readonly object[]) =>
      list.map((c, i) => (i === 0 ? { ...c, value: undefined } : c));
    assert.deepEqual(withoutSpeValue(psa.softwareComponents), withoutSpeValue(GOLDEN.components));
    assert.match(psa.softwareComponents[0]?.value ?? "", /^[0-9a-f]{64}$/);
  }
  assert.deepEqual(
    psa.softwareComponents.map((c) => `${c.type} ${c.version}`),
    ["SPE 1.6.0", "NSPE 0.0.0"],
  );
  assert.equal(hex(claims.reportData), "00".repeat(64));
  assert.equal(claims.debug, false);
  assert.match(claims.measurement, /^[0-9a-f]{64}$/);
  assert.match(claims.trustAnchor.name, /^PSA IAK for instance 01fa58755f658627…$/);
}

describe("TF-M COSE_Sign1 tokens (index.json)", () => {
  const cases = [
    ...Object.entries(P2.files)
      .filter(([role]) => role.startsWith("token"))
      .map(([, path]) => [path, P2.source_asserts?.["profile (265)"]] as const),
    ...Object.entries(P1.files)
      .filter(([role]) => role.startsWith("token"))
      .map(([, path]) => [path, P1.source_asserts?.["profile (-75000)"]] as const),
  ];
  assert.equal(cases.length, 3);

  for (const [path, profile] of cases) {
    test(`${path} verifies with the TF-M key as a trust anchor and as a key-store entry`, async () => {
      for (const endorsements of [PEM, store(INSTANCE, PEM)]) {
        const verified = await psaVerifier.verify(evidence(read(path)), context(endorsements));
        assertGolden(verified.claims, profile as string);
        assert.deepEqual(
          verified.checks.map((c) => [c.code, c.status]),
          [["psa.token.signature", "pass"]],
        );
      }
    });

    test(`${path}: another instance's key store refuses it`, async () => {
      const other = `01${"ab".repeat(32)}`;
      await rejects(
        psaVerifier.verify(evidence(read(path)), context(store(other, PEM))),
        "psa.key.unknown_instance",
      );
    });

    test(`${path}: a flipped signature byte fails the signature, a flipped payload byte never verifies`, async () => {
      const token = read(path);
      const sigFlip = token.slice();
      flip(sigFlip, sigFlip.length - 5);
      await rejects(psaVerifier.verify(evidence(sigFlip), context(PEM)), "psa.token.signature");
      const payloadFlip = token.slice();
      flip(payloadFlip, Math.floor(token.length / 2));
      await rejects(
        psaVerifier.verify(evidence(payloadFlip), context(PEM)),
        /^psa\.(token\.signature|token\.malformed|claims\.invalid)$/,
      );
    });

    test(`${path}: a key the device does not hold fails the signature`, async () => {
      const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
        "sign",
      ]);
      const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
      await rejects(
        psaVerifier.verify(evidence(read(path)), context(JSON.stringify(jwk))),
        "psa.token.signature",
      );
    });
  }

  test("both P1 copies carry the same claims but for the SPE measurement", () => {
    const [a, b] = Object.entries(P1.files)
      .filter(([role]) => role.startsWith("token"))
      .map(([, path]) => parsePsaToken(read(path)));
    assert.ok(a?.kind === "sign1" && b?.kind === "sign1");
    const [spe, ...rest] = a.claims.softwareComponents ?? [];
    assert.deepEqual(b.claims, {
      ...a.claims,
      softwareComponents: [
        { ...spe, measurementValue: b.claims.softwareComponents?.[0]?.measurementValue },
        ...rest,
      ],
    });
    assert.notDeepEqual(a.sign1.signature, b.sign1.signature);
  });

  test("without endorsements, or with the wrong evidence format, nothing verifies", async () => {
    const token = read(P2.files.token as string);
    await rejects(psaVerifier.verify(evidence(token), context()), "psa.endorsements.missing");
    await rejects(psaVerifier.verify(evidence(token, "cca-token"), context(PEM)), "psa.format");
    await rejects(
      psaVerifier.verify(evidence(token), context('{"keys": [{"instanceId": "01"}]}')),
      "psa.endorsements.invalid",
    );
  });
});

describe("TF-M COSE_Mac0 tokens", () => {
  for (const path of Object.values(MAC0.files)) {
    test(`${path} parses and is reported as unverifiable`, async () => {
      const token = parsePsaToken(read(path));
      assert.equal(token.kind, "mac0");
      assert.equal(token.claims.clientId, 3002);
      const error = await rejects(
        psaVerifier.verify(evidence(read(path)), context(PEM)),
        "psa.token.mac0",
      );
      assert.match(error.message, /COSE_Mac0/);
    });
  }
});

test("index.json lists every file of testvectors/psa/tf-m", () => {
  const listed = new Set(
    VECTOR_INDEX.filter((e) => e.tee === "psa").flatMap((e) => Object.values(e.files)),
  );
  for (const name of readdirSync(`${TESTVECTORS}psa/tf-m`)) {
    assert.ok(listed.has(`psa/tf-m/${name}`), name);
  }
});

/** Tokens of our own, signed with a fresh key, for claims TF-M's samples do not show. */
describe("appraisal", () => {
  async function signed(overrides: Map<number, unknown>) {
    const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ]);
    const golden = parsePsaToken(read(P2.files.token as string));
    assert.ok(golden.kind === "sign1");
    const { decode } = await import("cbor2");
    const payload = decode(golden.sign1.payload, { preferMap: true }) as Map<number, unknown>;
    for (const [k, v] of overrides) payload.set(k, v);
    const protectedBytes = encode(new Map([[1, -7]]));
    const payloadBytes = encode(payload);
    const tbs = encode(["Signature1", protectedBytes, new Uint8Array(0), payloadBytes]);
    const signature = new Uint8Array(
      await crypto.subtle.sign(
        { name: "ECDSA", hash: "SHA-256" },
        pair.privateKey,
        new Uint8Array(tbs),
      ),
    );
    const token = encode(new Tag(18, [protectedBytes, new Map(), payloadBytes, signature]));
    const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
    return psaVerifier.verify(evidence(token), context(JSON.stringify(jwk)));
  }
  const policy = (psa: unknown): Policy =>
    ({ platforms: ["psa"], psa: parsePsaPolicy(psa) }) as Policy;
  const codes = (claims: Claims, psa: unknown) =>
    appraisePsa(claims, policy(psa)).map((c) => `${c.code}:${c.status}`);

  test("the secured TF-M token passes pinned implementation, instance and components", async () => {
    const { claims } = await psaVerifier.verify(
      evidence(read(P2.files.token as string)),
      context(PEM),
    );
    const references = GOLDEN.components.map((c) => ({
      measurementType: c.type,
      measurementValue: c.value,
      signerId: c.signerId,
    }));
    assert.deepEqual(
      codes(claims, {
        implementationIds: [GOLDEN.implementationId],
        instanceIds: [String(GOLDEN.instanceId).toUpperCase()],
        softwareComponents: references,
      }),
      [
        "psa.policy.lifecycle:pass",
        "psa.policy.implementation_id:pass",
        "psa.policy.instance_id:pass",
        "psa.policy.sw_component:pass",
      ],
    );
    assert.deepEqual(
      codes(claims, {
        implementationIds: ["00".repeat(32)],
        instanceIds: [`01${"00".repeat(32)}`],
        softwareComponents: references.slice(0, 1),
      }),
      [
        "psa.policy.lifecycle:pass",
        "psa.policy.implementation_id:fail",
        "psa.policy.instance_id:fail",
        "psa.policy.sw_component:fail",
      ],
    );
    const wrongSigner = [{ ...references[0], signerId: "11".repeat(32) }, references[1]];
    assert.deepEqual(codes(claims, { softwareComponents: wrongSigner }), [
      "psa.policy.lifecycle:pass",
      "psa.policy.sw_component:fail",
    ]);
  });

  test("a debug lifecycle is debug and fails the secured-lifecycle rule unless relaxed", async () => {
    const { claims } = await signed(new Map([[2395, 0x4001]]));
    assert.equal(claims.debug, true);
    const psa = claims.platformClaims as unknown as PsaPlatformClaims;
    assert.deepEqual(psa.lifecycle, { value: 0x4001, name: "non-psa-rot-debug" });
    assert.deepEqual(codes(claims, {}), ["psa.policy.lifecycle:fail"]);
    assert.deepEqual(codes(claims, { requireSecuredLifecycle: false }), [
      "psa.policy.lifecycle:warn",
    ]);
    const provisioning = await signed(new Map([[2395, 0x2000]]));
    assert.equal(provisioning.claims.debug, false);
    assert.deepEqual(codes(provisioning.claims, {}), ["psa.policy.lifecycle:fail"]);
  });

  test("a short nonce is zero-padded into the report data", async () => {
    const nonce = new Uint8Array(32).fill(7);
    const { claims } = await signed(new Map([[10, nonce]]));
    assert.equal(hex(claims.reportData), `${"07".repeat(32)}${"00".repeat(32)}`);
  });

  test("the measurement digest ignores component order and labels, not values", async () => {
    const golden = parsePsaToken(read(P2.files.token as string));
    const components = golden.claims.softwareComponents ?? [];
    const [a, b] = components;
    assert.ok(a && b);
    const base = await psaMeasurement(components);
    assert.equal(await psaMeasurement([b, a]), base);
    assert.equal(await psaMeasurement([{ ...a, version: "9" }, b]), base);
    assert.notEqual(
      await psaMeasurement([{ ...a, measurementValue: b.measurementValue }, b]),
      base,
    );
    assert.notEqual(await psaMeasurement([a]), base);
  });

  test("policy sections are checked setting by setting", () => {
    assert.throws(() => parsePsaPolicy({ lifecycle: "secured" }), /psa\.lifecycle/);
    assert.throws(() => parsePsaPolicy({ implementationIds: ["abcd"] }), /implementationIds/);
    assert.throws(() => parsePsaPolicy({ instanceIds: ["zz"] }), /instanceIds/);
    assert.throws(
      () => parsePsaPolicy({ softwareComponents: [{ signerId: "00".repeat(32) }] }),
      /measurementValue/,
    );
    assert.throws(() => parsePsaPolicy({ requireSecuredLifecycle: "yes" }), /requireSecured/);
    assert.deepEqual(parsePsaPolicy({ instanceIds: [`01${"AB".repeat(32)}`] }), {
      instanceIds: [`01${"ab".repeat(32)}`],
    });
  });
});
