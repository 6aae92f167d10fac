import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  attest,
  CloisterError,
  encodePsaClaims,
  generateDeviceKeyPair,
  ParseError,
  PSA_COLLATERAL,
  PSA_PROFILE_2,
  PSA_TOKEN_FORMAT,
  parsePsaToken,
  parseReleaseRequest,
  psaInstanceIdOf,
  releaseNonce,
  signCoseSign1,
  toBase64Url,
  toHex,
  unwrapReleasedKey,
  wrapReleasedKey,
} from "@cloister/core";
import { TESTVECTORS } from "./support/testvectors.js";

const TFM_PUBLIC_PEM = readFileSync(join(TESTVECTORS, "psa/tf-m/public.pem"), "utf8");

test("a released key opens only with the device's key pair, for its challenge and key id", async () => {
  const device = await generateDeviceKeyPair();
  const other = await generateDeviceKeyPair();
  const key = crypto.getRandomValues(new Uint8Array(32));
  const sealed = await wrapReleasedKey(key, device.publicKey, {
    challengeId: "AAAAAAAAAAAAAAAAAAAAAA",
    keyId: "k1",
  });
  assert.deepEqual(await unwrapReleasedKey(sealed, device, "AAAAAAAAAAAAAAAAAAAAAA"), key);
  for (const [pair, challengeId, released] of [
    [other, "AAAAAAAAAAAAAAAAAAAAAA", sealed],
    [device, "BBBBBBBBBBBBBBBBBBBBBB", sealed],
    [device, "AAAAAAAAAAAAAAAAAAAAAA", { ...sealed, keyId: "k2" }],
  ] as const) {
    await assert.rejects(
      unwrapReleasedKey(released, pair, challengeId),
      (e: unknown) => e instanceof CloisterError && e.code === "device.release.unwrap",
    );
  }
});

test("the release nonce binds both the challenge and the public key", async () => {
  const challenge = new Uint8Array(32).fill(1);
  const a = await releaseNonce(challenge, new Uint8Array(32).fill(2));
  assert.equal(a.length, 32);
  assert.notDeepEqual(a, await releaseNonce(challenge, new Uint8Array(32).fill(3)));
  assert.notDeepEqual(
    a,
    await releaseNonce(new Uint8Array(32).fill(4), new Uint8Array(32).fill(2)),
  );
});

test("release requests are checked field by field", () => {
  const good = {
    challengeId: toBase64Url(new Uint8Array(16)),
    token: toBase64Url(new Uint8Array(10)),
    publicKey: toBase64Url(new Uint8Array(32)),
    keyId: "model key 1",
  };
  assert.equal(parseReleaseRequest(good).keyId, "model key 1");
  for (const [field, value] of [
    ["challengeId", "short"],
    ["token", "not base64url!"],
    ["publicKey", toBase64Url(new Uint8Array(31))],
    ["keyId", ""],
    ["keyId", "new\nline"],
  ] as const) {
    assert.throws(
      () => parseReleaseRequest({ ...good, [field]: value }),
      (e: unknown) => e instanceof ParseError && e.field === field,
      field,
    );
  }
});

test("a token signed as TF-M signs verifies with TF-M's published key", async () => {
  // An IAK of our own, and the claims a TF-M RoT reports, through the real verifier.
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const publicJwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const payload = encodePsaClaims({
    profile: PSA_PROFILE_2,
    clientId: 1,
    securityLifecycle: 0x3000,
    implementationId: new Uint8Array(32).fill(0xaa),
    softwareComponents: [
      {
        measurementType: "SPE",
        measurementValue: new Uint8Array(32),
        signerId: new Uint8Array(32),
      },
    ],
    nonce,
    instanceId: await psaInstanceIdOf(publicJwk),
  });
  const token = await signCoseSign1(payload, pair.privateKey, -7);
  assert.deepEqual(parsePsaToken(token).claims.nonce, nonce);
  const result = await attest(
    { platform: "psa", format: PSA_TOKEN_FORMAT, data: token },
    { platforms: ["psa"] },
    {
      now: new Date(),
      collateral: {
        [PSA_COLLATERAL.endorsements]: JSON.stringify({
          keys: [{ instanceId: toHex(await psaInstanceIdOf(publicJwk)), key: publicJwk }],
        }),
      },
    },
  );
  assert.equal(result.verdict, "affirming", JSON.stringify(result.checks));
  // The instance ID of TF-M's own IAK, derived the same way, is the one in its example tokens.
  const tfm = await crypto.subtle.importKey(
    "spki",
    Uint8Array.from(atob(TFM_PUBLIC_PEM.replace(/-----[^-]+-----|\s/g, "")), (c) =>
      c.charCodeAt(0),
    ),
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["verify"],
  );
  assert.equal(
    toHex(await psaInstanceIdOf(await crypto.subtle.exportKey("jwk", tfm))),
    "01fa58755f658627ce5460f29b75296713248cae7ad9e2984b90280efcbcb50248",
  );
});
