import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { encode } from "cbor2";
import {
  decodePsaClaims,
  PSA_PROFILE_1,
  PSA_PROFILE_2,
  PSA_PROFILE_RFC9783,
  type PsaProfile,
  psaClaimsFromJson,
  psaLifecycleState,
} from "../../../src/attest/psa/index.js";
import { ParseError } from "../../../src/errors.js";
import { TESTVECTORS, vectorEntry } from "../../support/testvectors.js";

/**
 * psatoken's claim-set corpus, each file under each profile with the verdict the corpus README
 * records (P1/P2 positives listed there, every other file negative), first in its JSON form and
 * then re-encoded as the CBOR a token would carry, so that both decoders share one validation.
 */

const DIR = vectorEntry("psa/claims-json").files.dir as string;
const FILES = readdirSync(`${TESTVECTORS}${DIR}`).filter((f) => f.endsWith(".json"));

const POSITIVE: Readonly<Record<"p1" | "p2", readonly string[]>> = {
  p1: [
    "test-profile-invalid-missing",
    "test-profile-valid-missing",
    "test-token-valid-full",
    "test-token-valid-minimalist-no-sw-measurements",
    "test-token-valid-minimalist-p1",
  ],
  p2: ["test-token-valid-full", "test-token-valid-minimalist-p2", "test-boot-seed-invalid-missing"],
};
const PROFILES = { p1: PSA_PROFILE_1, p2: PSA_PROFILE_2 } as const;

const json = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(`${TESTVECTORS}${DIR}${file}`, "utf8"));

/** The JSON names and CBOR keys of each profile, for re-encoding a claim set as a token would. */
const KEYS: Readonly<Record<"p1" | "p2", Readonly<Record<string, number>>>> = {
  p1: {
    "psa-profile": -75000,
    "psa-client-id": -75001,
    "psa-security-lifecycle": -75002,
    "psa-implementation-id": -75003,
    "psa-boot-seed": -75004,
    "psa-hwver": -75005,
    "psa-software-components": -75006,
    "psa-no-software-measurements": -75007,
    "psa-nonce": -75008,
    "psa-instance-id": -75009,
    "psa-verification-service-indicator": -75010,
  },
  p2: {
    "eat-profile": 265,
    "psa-client-id": 2394,
    "psa-security-lifecycle": 2395,
    "psa-implementation-id": 2396,
    "psa-boot-seed": 2397,
    "psa-certification-reference": 2398,
    "psa-software-components": 2399,
    "psa-nonce": 10,
    "psa-instance-id": 256,
    "psa-verification-service-indicator": 2400,
  },
};
const COMPONENT_KEYS: Readonly<Record<string, number>> = {
  "measurement-type": 1,
  "measurement-value": 2,
  version: 4,
  "signer-id": 5,
  "measurement-description": 6,
};
const BYTES = /^(psa-(implementation-id|boot-seed|nonce|instance-id)|measurement-value|signer-id)$/;

function cborValue(name: string, value: unknown): unknown {
  if (typeof value === "string" && BYTES.test(name)) {
    return new Uint8Array(Buffer.from(value, "base64"));
  }
  if (Array.isArray(value)) {
    return value.map(
      (c: Record<string, unknown>) =>
        new Map(Object.entries(c).map(([k, v]) => [COMPONENT_KEYS[k], cborValue(k, v)])),
    );
  }
  return value;
}

function toCbor(claims: Record<string, unknown>, profile: "p1" | "p2"): Uint8Array {
  const map = new Map<number, unknown>();
  for (const [name, value] of Object.entries(claims)) {
    const key = KEYS[profile][name];
    if (key !== undefined) map.set(key, cborValue(name, value));
  }
  return encode(map);
}

function verdict(run: () => unknown): "valid" | string {
  try {
    run();
    return "valid";
  } catch (error) {
    assert.ok(error instanceof ParseError, String(error));
    assert.equal(error.code, "psa.claims.invalid", error.message);
    assert.match(error.message, /profile/);
    return error.message;
  }
}

test("the corpus holds the claim sets the README lists", () => {
  assert.ok(FILES.length >= 28, `${FILES.length} files`);
  for (const name of [...POSITIVE.p1, ...POSITIVE.p2]) assert.ok(FILES.includes(`${name}.json`));
});

for (const profile of ["p1", "p2"] as const) {
  describe(`claims-json under ${PROFILES[profile]}`, () => {
    for (const file of FILES) {
      const name = file.replace(/\.json$/, "");
      const positive = POSITIVE[profile].includes(name);
      test(`${name} is ${positive ? "valid" : "invalid"}`, () => {
        const fromJson = verdict(() => psaClaimsFromJson(json(file), PROFILES[profile]));
        assert.equal(fromJson === "valid", positive, fromJson);
        // In CBOR the profile is chosen by claim 265: a set without it is P1's, so a P2 set
        // lacking its profile is checked in its JSON form only.
        if (profile === "p2" && json(file)["eat-profile"] === undefined) return;
        const fromCbor = verdict(() => decodePsaClaims(toCbor(json(file), profile)));
        assert.equal(fromCbor === "valid", positive, fromCbor);
        if (positive) {
          assert.deepEqual(
            decodePsaClaims(toCbor(json(file), profile)),
            psaClaimsFromJson(json(file), PROFILES[profile]),
          );
        }
      });
    }
  });
}

describe("claim details", () => {
  const full = () => json("test-token-valid-full.json");

  test("a valid P2 set decodes to typed claims", () => {
    const claims = psaClaimsFromJson(full(), PSA_PROFILE_2);
    assert.equal(claims.profile, PSA_PROFILE_2);
    assert.equal(claims.clientId, 1);
    assert.equal(claims.securityLifecycle, 0x3000);
    assert.equal(claims.instanceId.length, 33);
    assert.equal(claims.certificationReference, "1234567890123-12345");
    assert.equal(claims.softwareComponents?.length, 2);
    assert.equal(claims.softwareComponents?.[0]?.measurementType, "BL");
  });

  test("errors name the claim and the profile", () => {
    const set = { ...full(), "psa-nonce": "AQID" };
    assert.throws(() => psaClaimsFromJson(set, PSA_PROFILE_2), {
      code: "psa.claims.invalid",
      message: /^psa-nonce: .*profile http:\/\/arm\.com\/psa\/2\.0\.0/,
    });
  });

  test("the RFC 9783 profile follows the P2 rules under its own name", () => {
    const set = { ...full(), "eat-profile": PSA_PROFILE_RFC9783 };
    assert.equal(psaClaimsFromJson(set, PSA_PROFILE_RFC9783).profile, PSA_PROFILE_RFC9783);
    assert.equal(decodePsaClaims(toCbor(set, "p2")).profile, PSA_PROFILE_RFC9783);
    assert.throws(() => psaClaimsFromJson(set, PSA_PROFILE_2), /eat-profile/);
  });

  test("an unknown eat_profile in CBOR is refused", () => {
    const set = { ...full(), "eat-profile": "http://example.com/other" };
    assert.throws(() => decodePsaClaims(toCbor(set, "p2")), { code: "psa.claims.invalid" });
  });

  test("claims of the wrong type are invalid, not missing", () => {
    const cases: [string, unknown, PsaProfile][] = [
      ["psa-client-id", "1", PSA_PROFILE_2],
      ["psa-client-id", 2 ** 31, PSA_PROFILE_2],
      ["psa-security-lifecycle", 1.5, PSA_PROFILE_2],
      ["psa-implementation-id", 7, PSA_PROFILE_2],
      ["psa-software-components", {}, PSA_PROFILE_2],
      ["psa-software-components", [7], PSA_PROFILE_2],
      ["psa-verification-service-indicator", 1, PSA_PROFILE_2],
      ["psa-nonce", "not base64!", PSA_PROFILE_2],
      ["psa-boot-seed", "AQIDBAUGBw==", PSA_PROFILE_2],
      ["psa-no-software-measurements", 2, PSA_PROFILE_1],
      ["psa-hwver", "12345", PSA_PROFILE_1],
    ];
    for (const [name, value, profile] of cases) {
      const set = { ...full(), [name]: value };
      assert.throws(() => psaClaimsFromJson(set, profile), { code: "psa.claims.invalid" }, name);
    }
  });

  test("P2 accepts its nonce as a one-element list, not as two", () => {
    const set = full();
    const one = { ...set, "psa-nonce": [set["psa-nonce"]] };
    assert.equal(psaClaimsFromJson(one, PSA_PROFILE_2).nonce.length, 32);
    const two = { ...set, "psa-nonce": [set["psa-nonce"], set["psa-nonce"]] };
    assert.throws(() => psaClaimsFromJson(two, PSA_PROFILE_2), /exactly one/);
  });

  test("payloads that are no claims map are malformed", () => {
    for (const payload of [Uint8Array.of(0xff), encode([1, 2]), Uint8Array.of(0xa1, 0x01)]) {
      assert.throws(() => decodePsaClaims(payload), { code: "psa.token.malformed" });
    }
    // A repeated claim key would let two readers see two different claim sets.
    const dup = Uint8Array.of(0xa2, 0x0a, 0x01, 0x0a, 0x02);
    assert.throws(() => decodePsaClaims(dup), { code: "psa.token.malformed" });
  });

  test("lifecycle values map to their major state", () => {
    const table: [number, string | undefined][] = [
      [0x0000, "unknown"],
      [0x10ff, "assembly-and-test"],
      [0x2000, "psa-rot-provisioning"],
      [0x3000, "secured"],
      [0x30ff, "secured"],
      [0x4000, "non-psa-rot-debug"],
      [0x5000, "recoverable-psa-rot-debug"],
      [0x6000, "decommissioned"],
      [0x3100, undefined],
      [0x7000, undefined],
      [0xffff, undefined],
      [2 ** 32 + 0x3000, undefined],
      [-1, undefined],
    ];
    for (const [value, state] of table) assert.equal(psaLifecycleState(value), state, `${value}`);
  });
});
