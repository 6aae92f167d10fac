import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { decode, encode, Tag } from "cbor2";
import { appraiseCca } from "../../../src/attest/cca/appraise.js";
import type { CcaPlatformClaims } from "../../../src/attest/cca/claims.js";
import { CCA_COLLATERAL, CCA_TOKEN_FORMAT } from "../../../src/attest/cca/formats.js";
import { parseCcaPolicy } from "../../../src/attest/cca/policy.js";
import { parseCcaReferenceValues } from "../../../src/attest/cca/reference-values.js";
import { ccaVerifier } from "../../../src/attest/cca/verify.js";
import type { Policy } from "../../../src/attest/policy.js";
import type { Check, Collateral } from "../../../src/attest/types.js";
import { VerificationError } from "../../../src/attest/verifier.js";
import { CloisterError } from "../../../src/errors.js";
import {
  TESTVECTORS,
  VECTOR_INDEX,
  type VectorEntry,
  vectorEntry,
} from "../../support/testvectors.js";

const NOW = new Date("2026-01-01T00:00:00Z");
const read = (path: string) => new Uint8Array(readFileSync(`${TESTVECTORS}${path}`));
const text = (path: string) => readFileSync(`${TESTVECTORS}${path}`, "utf8");

const ENTRIES = VECTOR_INDEX.filter((e) => e.tee === "cca");

/** The file that holds an entry's CPAK, whatever role name the index gives it. */
function anchorFile(entry: VectorEntry): string {
  const { files } = entry;
  const path = files.cpak_pem ?? files.cpak ?? files.ta_ok ?? files.trust_anchors;
  assert.ok(path, `${entry.id} names no CPAK trust anchor`);
  return path;
}

function verify(token: Uint8Array, anchors: string | undefined, format = CCA_TOKEN_FORMAT) {
  const collateral: Collateral =
    anchors === undefined ? {} : { [CCA_COLLATERAL.platformKeys]: anchors };
  return ccaVerifier.verify(
    { platform: "cca", format, data: token },
    { now: NOW, collateral, simulatedRoots: [] },
  );
}

async function rejects(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof CloisterError, `not a CloisterError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

/** The codes that a negative entry's prose names, by what it says failed. */
function expectedFailure(entry: VectorEntry): string {
  if (/not the hash of the RAK/.test(entry.expected)) return "cca.binding";
  throw new Error(`no expected code known for ${entry.id}: ${entry.expected}`);
}

describe("CCA vectors, each with its recorded verdict", () => {
  test("index.json has the six CCA entries", () => {
    assert.equal(ENTRIES.length, 6);
  });
  for (const entry of ENTRIES) {
    const token = read(entry.files.token ?? "");
    if (/^valid/.test(entry.expected)) {
      test(`${entry.id}: valid with ${anchorFile(entry)}`, async () => {
        const { claims, checks } = await verify(token, text(anchorFile(entry)));
        assert.equal(claims.platform, "cca");
        assert.deepEqual(
          checks.map((c) => [c.code, c.status]),
          [
            ["cca.platform.signature", "pass"],
            ["cca.realm.signature", "pass"],
            ["cca.binding", "pass"],
          ],
        );
        assert.equal(claims.reportData.length, 64);
        assert.equal(claims.trustAnchor.name, "Arm CCA platform key (CPAK)");
        assert.match(claims.trustAnchor.fingerprint, /^[0-9a-f]{64}$/);
      });
    } else {
      const code = expectedFailure(entry);
      test(`${entry.id}: rejected with ${code}`, async () => {
        await rejects(verify(token, text(anchorFile(entry))), code);
      });
    }
    if (entry.files.ta_bad !== undefined) {
      test(`${entry.id}: ${entry.files.ta_bad} (point off the curve) fails the platform`, async () => {
        assert.match(entry.expected, /platform = CRYPTO_VALIDATION_FAILED/);
        await rejects(verify(token, text(entry.files.ta_bad ?? "")), "cca.platform.key");
      });
    }
  }
});

describe("cca/tf-rmm-token-01 golden values", () => {
  const entry = vectorEntry("cca/tf-rmm-token-01");
  const asserts = entry.source_asserts as Record<string, string>;
  const token = read(entry.files.token ?? "");

  test("claims match the source's assertions", async () => {
    const { claims } = await verify(token, text(entry.files.cpak_pem ?? ""));
    const cca = claims.platformClaims as unknown as CcaPlatformClaims;
    assert.equal(cca.platform.implementationId, asserts["implementation-id"]);
    assert.equal(cca.platform.instanceId, asserts["instance-id"]);
    assert.equal(claims.hardwareId, asserts["instance-id"]);
    assert.equal(cca.platform.lifecycle.value, Number.parseInt(asserts.lifecycle ?? "", 10));
    assert.equal(cca.platform.lifecycle.name, "secured");
    assert.equal(claims.debug, false);
    assert.match(asserts["realm challenge"] ?? "", /^64 x 0xab$/);
    assert.deepEqual(claims.reportData, new Uint8Array(64).fill(0xab));
    assert.match(asserts.RIM ?? "", /^32 zero bytes$/);
    assert.equal(claims.measurement, "00".repeat(32));
    assert.equal(cca.realm.rems.length, 4);
    assert.equal(cca.realm.publicKeyHashAlgorithm, "sha-256");
    assert.equal(cca.platform.softwareComponents.length, 4);
    assert.deepEqual(cca.platform.softwareComponents[0]?.type, "BL");
    // The JSON form is what reports and EAR carry: it must survive a round trip.
    assert.deepEqual(JSON.parse(JSON.stringify(cca)), cca);
  });

  test("the JWK store and the PEM name the same CPAK", async () => {
    const fromPem = await verify(token, text(entry.files.cpak_pem ?? ""));
    const fromStore = await verify(token, text(entry.files.trust_anchors ?? ""));
    assert.equal(fromPem.claims.trustAnchor.fingerprint, fromStore.claims.trustAnchor.fingerprint);
  });

  test("the CMW 907 form carries the same claims", async () => {
    const cmw = vectorEntry("cca/tf-rmm-cmw-907");
    const a = await verify(token, text(entry.files.cpak_pem ?? ""));
    const b = await verify(read(cmw.files.token ?? ""), text(cmw.files.cpak ?? ""));
    assert.deepEqual(a.claims, b.claims);
  });
});

describe("draft-ffm-00 token", () => {
  const entry = vectorEntry("cca/draft-ffm-00");
  test("new profiles and the RAK as a COSE_Key", async () => {
    const { claims } = await verify(read(entry.files.token ?? ""), text(anchorFile(entry)));
    const cca = claims.platformClaims as unknown as CcaPlatformClaims;
    const [platformProfile, realmProfile] = String(entry.source_asserts?.profiles).split(" / ");
    assert.equal(cca.platform.profile, platformProfile);
    assert.equal(cca.realm.profile, realmProfile);
    const key = decode(Buffer.from(cca.realm.publicKey, "hex"), { preferMap: true });
    assert.ok(key instanceof Map && key.get(1) === 2, "the RAK claim is an EC2 COSE_Key");
  });
});

describe("the binding uses the RAK hash algorithm (44240), not the measurement one (44236)", () => {
  for (const id of ["cca/synthetic-legacy", "cca/trustee-example"]) {
    test(id, async () => {
      const entry = vectorEntry(id);
      const { claims } = await verify(read(entry.files.token ?? ""), text(anchorFile(entry)));
      const realm = (claims.platformClaims as unknown as CcaPlatformClaims).realm;
      assert.notEqual(realm.hashAlgorithm, realm.publicKeyHashAlgorithm);
    });
  }
});

describe("trust anchors", () => {
  const entry = vectorEntry("cca/tf-rmm-token-01");
  const token = read(entry.files.token ?? "");
  test("no CPAK supplied", () => rejects(verify(token, undefined), "cca.platform.key"));
  test("an anchor store for another platform", async () => {
    const other = vectorEntry("cca/synthetic-legacy");
    await rejects(verify(token, text(other.files.ta_ok ?? "")), "cca.platform.key");
  });
  test("a key without platform IDs that did not sign", async () => {
    const other = vectorEntry("cca/synthetic-legacy");
    const [store] = JSON.parse(text(other.files.ta_ok ?? "")) as [{ pkey: unknown }];
    await rejects(verify(token, JSON.stringify(store.pkey)), "cca.platform.signature");
  });
  test("collateral that is no key", () => rejects(verify(token, "{}"), "cca.platform.key"));
  test("the wrong evidence format", () =>
    rejects(verify(token, text(entry.files.cpak_pem ?? ""), "psa-token"), "cca.format"));
});

describe("tampering", () => {
  const entry = vectorEntry("cca/tf-rmm-token-01");
  const token = read(entry.files.token ?? "");
  const pem = text(entry.files.cpak_pem ?? "");
  const collection = (decode(token, { preferMap: true }) as Tag).contents as Map<
    number,
    Uint8Array
  >;
  const signatureOf = (key: number) =>
    (
      (decode(collection.get(key) ?? new Uint8Array(), { preferMap: true }) as Tag).contents as [
        unknown,
        unknown,
        unknown,
        Uint8Array,
      ]
    )[3];
  const flipAt = (needle: Uint8Array, delta: number) => {
    const at = Buffer.from(token).indexOf(Buffer.from(needle));
    assert.ok(at > 0);
    const copy = token.slice();
    copy[at + delta] = (copy[at + delta] ?? 0) ^ 0x01;
    return copy;
  };

  test("a flipped platform signature byte", async () => {
    await rejects(verify(flipAt(signatureOf(44234), 10), pem), "cca.platform.signature");
  });
  test("a flipped realm signature byte", async () => {
    await rejects(verify(flipAt(signatureOf(44241), 10), pem), "cca.realm.signature");
  });
  test("a flipped byte in the realm challenge", async () => {
    await rejects(verify(flipAt(new Uint8Array(64).fill(0xab), 5), pem), "cca.realm.signature");
  });
  test("a realm token swapped in from another platform's token fails the binding", async () => {
    const other = vectorEntry("cca/synthetic-legacy");
    const otherToken = decode(read(other.files.token ?? ""), { preferMap: true }) as Tag;
    const realm = (otherToken.contents as Map<number, Uint8Array>).get(44241);
    const mixed = encode(
      new Tag(
        399,
        new Map([
          [44234, collection.get(44234)],
          [44241, realm],
        ]),
      ),
    );
    await rejects(verify(mixed, pem), "cca.binding");
  });
  test("truncated and re-tagged tokens are malformed", async () => {
    await rejects(verify(token.subarray(0, token.length - 1), pem), "cca.token.malformed");
    await rejects(verify(encode(new Tag(400, collection)), pem), "cca.token.malformed");
    await rejects(verify(new Uint8Array(), pem), "cca.token.malformed");
  });
  test("a missing platform token is malformed", async () => {
    const realmOnly = encode(new Tag(399, new Map([[44241, collection.get(44241)]])));
    await rejects(verify(realmOnly, pem), "cca.token.malformed");
  });
});

describe("appraisal", () => {
  const entry = vectorEntry("cca/tf-rmm-token-01");
  const rv = JSON.parse(text(entry.files.reference_values ?? ""));
  const verified = verify(read(entry.files.token ?? ""), text(entry.files.cpak_pem ?? ""));

  const appraise = async (cca: unknown): Promise<Check[]> => {
    const policy = { platforms: ["cca"], cca: parseCcaPolicy(cca) } as Policy;
    return appraiseCca((await verified).claims, policy);
  };
  const failed = (checks: Check[]) => checks.filter((c) => c.status === "fail").map((c) => c.code);

  test("token-01 against rv.json passes every stage", async () => {
    const checks = await appraise({ referenceValues: rv });
    assert.deepEqual(
      checks.map((c) => [c.code, c.status]),
      [
        ["cca.policy.lifecycle", "pass"],
        ["cca.policy.platform_sw", "pass"],
        ["cca.policy.platform_config", "pass"],
        ["cca.policy.rim", "pass"],
        ["cca.policy.rem", "pass"],
        ["cca.policy.personalization", "pass"],
        ["cca.policy.rak_hash_algorithm", "pass"],
      ],
    );
  });

  test("the trustee example against its rvstore.json", async () => {
    const trustee = vectorEntry("cca/trustee-example");
    const { claims } = await verify(
      read(trustee.files.token ?? ""),
      text(trustee.files.cpak ?? ""),
    );
    const referenceValues = parseCcaReferenceValues(
      JSON.parse(text(trustee.files.rv_store ?? "")),
      "rv",
    );
    const checks = appraiseCca(claims, { platforms: ["cca"], cca: { referenceValues } } as Policy);
    assert.deepEqual(failed(checks), []);
    assert.equal(checks.length, 7);
  });

  /** rv.json with one value changed; the second platform entry is token-01's. */
  const changed = (edit: (copy: typeof rv) => void) => {
    const copy = structuredClone(rv);
    edit(copy);
    return { referenceValues: copy };
  };
  const cases: [string, (copy: typeof rv) => void, string][] = [
    [
      "a component measurement",
      (c) => {
        c.platform[1]["sw-components"][2]["measurement-value"] = "00".repeat(32);
      },
      "cca.policy.platform_sw",
    ],
    [
      "a component signer",
      (c) => {
        c.platform[1]["sw-components"][0]["signer-id"] = "11".repeat(32);
      },
      "cca.policy.platform_sw",
    ],
    [
      "a component missing",
      (c) => {
        c.platform[1]["sw-components"].pop();
      },
      "cca.policy.platform_sw",
    ],
    [
      "the implementation ID",
      (c) => {
        c.platform[1]["implementation-id"] = "22".repeat(32);
      },
      "cca.policy.platform_sw",
    ],
    [
      "the platform configuration",
      (c) => {
        c.platform[1]["platform-configuration"] = "cfcfcfcf";
      },
      "cca.policy.platform_config",
    ],
    [
      "the RIM",
      (c) => {
        c.realm[0]["initial-measurement"] = "33".repeat(32);
      },
      "cca.policy.rim",
    ],
    [
      "a REM",
      (c) => {
        c.realm[0]["extensible-measurements"][3] = "44".repeat(32);
      },
      "cca.policy.rem",
    ],
    [
      "the personalization value",
      (c) => {
        c.realm[0]["personalization-value"] = "55".repeat(64);
      },
      "cca.policy.personalization",
    ],
    [
      "the RAK hash algorithm",
      (c) => {
        c.realm[0]["rak-hash-algorithm"] = "sha-512";
      },
      "cca.policy.rak_hash_algorithm",
    ],
  ];
  for (const [what, edit, code] of cases) {
    test(`a changed reference value (${what}) fails ${code}`, async () => {
      assert.deepEqual(failed(await appraise(changed(edit))), [code]);
    });
  }

  test("only the secured lifecycle is accepted by default", async () => {
    assert.deepEqual(failed(await appraise({})), []);
    assert.deepEqual(failed(await appraise({ lifecycles: ["non-psa-rot-debug"] })), [
      "cca.policy.lifecycle",
    ]);
  });

  test("policy parsing refuses unknown settings and malformed reference values", () => {
    for (const bad of [
      { lifecycles: ["debug"] },
      { referenceValue: rv },
      { referenceValues: { platform: [{ "implementation-id": "xyz", "sw-components": [] }] } },
      {
        referenceValues: {
          realm: [{ "initial-measurement": "00", "extensible-measurements": [] }],
        },
      },
    ]) {
      assert.throws(
        () => parseCcaPolicy(bad),
        (e: unknown) => e instanceof CloisterError && e.code === "policy.invalid",
      );
    }
  });
});

test("verification errors are VerificationErrors, shape errors ParseErrors", async () => {
  const entry = vectorEntry("cca/bug-33-binding-failure");
  await assert.rejects(
    verify(read(entry.files.token ?? ""), text(entry.files.trust_anchors ?? "")),
    VerificationError,
  );
});
