import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { CloisterError, parseNrasToken, verifyNrasToken } from "../../../../src/index.js";

/**
 * The corpus holds no NRAS token, so these tests mint tokens shaped like NRAS's (nvtrust
 * attestation SDK test data: overall_granular_claims_remote.json and
 * detached_granular_claims_remote.json, claims version 3.0) with a P-384 key made here.
 */

const NONCE = "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb";
const ISS = "https://nras.attestation.nvidia.com";
const IAT = 1736197319;
const NOW = new Date((IAT + 60) * 1000);
const KID = "nv-eat-kid-test";

const nras = await generateKeyPair("ES384", { extractable: true });
const other = await generateKeyPair("ES384", { extractable: true });
const jwks = {
  keys: [{ ...(await exportJWK(nras.publicKey)), kid: KID, alg: "ES384", use: "sig" }],
};

const gpuClaims = (): JWTPayload => ({
  measres: "success",
  "x-nvidia-gpu-arch-check": true,
  "x-nvidia-gpu-driver-version": "550.90.07",
  "x-nvidia-gpu-vbios-version": "96.00.9F.00.01",
  "x-nvidia-gpu-attestation-report-cert-chain": {
    "x-nvidia-cert-expiration-date": "9999-12-31T23:59:59",
    "x-nvidia-cert-status": "valid",
    "x-nvidia-cert-ocsp-status": "good",
    "x-nvidia-cert-revocation-reason": null,
  },
  "x-nvidia-gpu-attestation-report-cert-chain-fwid-match": true,
  "x-nvidia-gpu-attestation-report-parsed": true,
  "x-nvidia-gpu-attestation-report-nonce-match": true,
  "x-nvidia-gpu-attestation-report-signature-verified": true,
  "x-nvidia-gpu-driver-rim-fetched": true,
  "x-nvidia-gpu-driver-rim-schema-validated": true,
  "x-nvidia-gpu-driver-rim-cert-chain": {
    "x-nvidia-cert-expiration-date": "2026-11-20T03:10:39",
    "x-nvidia-cert-status": "valid",
    "x-nvidia-cert-ocsp-status": "good",
    "x-nvidia-cert-revocation-reason": null,
  },
  "x-nvidia-gpu-driver-rim-signature-verified": true,
  "x-nvidia-gpu-driver-rim-version-match": true,
  "x-nvidia-gpu-driver-rim-measurements-available": true,
  "x-nvidia-gpu-vbios-rim-fetched": true,
  "x-nvidia-gpu-vbios-rim-schema-validated": true,
  "x-nvidia-gpu-vbios-rim-cert-chain": {
    "x-nvidia-cert-expiration-date": "2026-02-22T23:17:58",
    "x-nvidia-cert-status": "valid",
    "x-nvidia-cert-ocsp-status": "good",
    "x-nvidia-cert-revocation-reason": null,
  },
  "x-nvidia-gpu-vbios-rim-version-match": true,
  "x-nvidia-gpu-vbios-rim-signature-verified": true,
  "x-nvidia-gpu-vbios-rim-measurements-available": true,
  "x-nvidia-gpu-vbios-index-no-conflict": true,
  eat_nonce: NONCE,
  hwmodel: "GH100 A01 GSP BROM",
  ueid: "490457405999046854973671575630853621547794591064",
  oemid: "5703",
  secboot: true,
  dbgstat: "disabled",
});

interface Mint {
  overall?: JWTPayload;
  gpu?: JWTPayload;
  key?: CryptoKey;
  exp?: number;
}

async function jwt(claims: JWTPayload, key: CryptoKey, exp: number): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES384", kid: KID, typ: "JWT" })
    .setIssuer(ISS)
    .setIssuedAt(IAT)
    .setNotBefore(IAT - 120)
    .setExpirationTime(exp)
    .setJti("a03100f6-4a97-4ba9-84cf-f866eddaefd0")
    .sign(key);
}

async function mint(options: Mint = {}): Promise<string> {
  const key = options.key ?? nras.privateKey;
  const exp = options.exp ?? IAT + 3600;
  const gpu = await jwt(options.gpu ?? gpuClaims(), key, exp);
  const overall = await jwt(
    options.overall ?? {
      sub: "NVIDIA-PLATFORM-ATTESTATION",
      "x-nvidia-ver": "3.0",
      "x-nvidia-overall-att-result": true,
      submods: {
        "GPU-0": [
          "DIGEST",
          ["SHA-256", "e8fdc07449924e6613626e3498128a2c66ca822d52360d6471196ee693df7e1a"],
        ],
      },
      eat_nonce: NONCE,
    },
    key,
    exp,
  );
  return JSON.stringify([["JWT", overall], { "GPU-0": gpu }]);
}

async function refused(
  token: string,
  code: string,
  options: Partial<Parameters<typeof verifyNrasToken>[1]> = {},
) {
  await assert.rejects(
    verifyNrasToken(token, { jwks, now: NOW, nonce: NONCE, ...options }),
    (e: unknown) => {
      assert.ok(e instanceof CloisterError, String(e));
      assert.equal(e.code, code, e.message);
      return true;
    },
  );
}

describe("verifyNrasToken", () => {
  test("a good token verifies and every check passes", async () => {
    const result = await verifyNrasToken(await mint(), {
      jwks,
      now: NOW,
      nonce: NONCE.toUpperCase(),
      expected: { driverVersion: "550.90.07", vbiosVersion: "96.00.9f.00.01" },
    });
    assert.equal(result.overall["x-nvidia-overall-att-result"], true);
    assert.equal(result.submodules.length, 1);
    assert.equal(result.submodules[0]?.name, "GPU-0");
    assert.equal(result.submodules[0]?.driverVersion, "550.90.07");
    assert.equal(result.submodules[0]?.vbiosVersion, "96.00.9F.00.01");
    assert.deepEqual(
      result.checks.filter((c) => c.status !== "pass"),
      [],
    );
    assert.deepEqual(
      result.checks.map((c) => c.code),
      [
        "nvidia.nras.token",
        "nvidia.nras.overall_result",
        "nvidia.nras.measres",
        "nvidia.nras.arch_check",
        "nvidia.nras.claims",
        "nvidia.nras.cert_chain",
        "nvidia.nras.cert_chain",
        "nvidia.nras.cert_chain",
        "nvidia.nras.driver_version",
        "nvidia.nras.vbios_version",
      ],
    );
  });

  test("a JWKS key given by x5c only is usable", async () => {
    // Not signed by anything: NRAS's JWKS is trusted as pinned, the certificate only carries the key.
    const { X509CertificateGenerator, cryptoProvider } = await import("@peculiar/x509");
    cryptoProvider.set(globalThis.crypto);
    const cert = await X509CertificateGenerator.createSelfSigned({
      name: "CN=NRAS test",
      keys: nras,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-384" },
      notBefore: new Date("2024-01-01Z"),
      notAfter: new Date("2030-01-01Z"),
    });
    const x5c = Buffer.from(cert.rawData).toString("base64");
    const result = await verifyNrasToken(await mint(), {
      jwks: { keys: [{ kty: "EC", kid: KID, x5c: [x5c] }] },
      now: NOW,
      nonce: NONCE,
    });
    assert.equal(result.submodules.length, 1);
  });

  test("wrong nonce", async () => {
    await refused(await mint(), "nvidia.nras.nonce", { nonce: "00".repeat(32) });
  });

  test("expired and not yet valid", async () => {
    await refused(await mint({ exp: IAT + 30 }), "nvidia.nras.expired");
    await refused(await mint(), "nvidia.nras.not_yet_valid", {
      now: new Date((IAT - 3600) * 1000),
    });
  });

  test("signed by a key not in the JWKS", async () => {
    await refused(await mint({ key: other.privateKey }), "nvidia.nras.signature");
  });

  test("claims changed after signing", async () => {
    const [[, overall], detached] = JSON.parse(await mint()) as [
      [string, string],
      Record<string, string>,
    ];
    const [h, p, s] = (detached["GPU-0"] as string).split(".");
    const claims = JSON.parse(Buffer.from(p as string, "base64url").toString());
    claims.measres = "fail";
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
    await refused(JSON.stringify([["JWT", overall], { "GPU-0": forged }]), "nvidia.nras.signature");
  });

  test("another issuer", async () => {
    await refused(await mint(), "nvidia.nras.issuer", {
      issuers: ["https://nras.attestation-stg.nvidia.com"],
    });
  });

  test("submods naming other GPUs than the detached tokens", async () => {
    const overall = {
      "x-nvidia-overall-att-result": true,
      submods: { "GPU-0": [], "GPU-1": [] },
      eat_nonce: NONCE,
    };
    await refused(await mint({ overall }), "nvidia.nras.submods");
  });

  test("a signed failing appraisal comes back as failing checks", async () => {
    const gpu: JWTPayload = {
      ...gpuClaims(),
      measres: "fail",
      "x-nvidia-gpu-arch-check": false,
      dbgstat: "enabled",
    };
    delete gpu["x-nvidia-gpu-vbios-index-no-conflict"];
    (gpu["x-nvidia-gpu-driver-rim-cert-chain"] as Record<string, unknown>)[
      "x-nvidia-cert-ocsp-status"
    ] = "revoked";
    const result = await verifyNrasToken(await mint({ gpu }), {
      jwks,
      now: NOW,
      nonce: NONCE,
      expected: { driverVersion: "560.00" },
    });
    assert.deepEqual(
      result.checks.filter((c) => c.status === "fail").map((c) => c.code),
      [
        "nvidia.nras.measres",
        "nvidia.nras.arch_check",
        "nvidia.nras.claims",
        "nvidia.nras.cert_chain",
        "nvidia.nras.dbgstat",
        "nvidia.nras.driver_version",
      ],
    );
  });

  test("malformed responses", () => {
    for (const input of [
      "[",
      "{}",
      '[["JWS","a.b.c"],{}]',
      '[["JWT","a.b.c"],{}]',
      '[["JWT","a.b.c"],{"GPU-0":1}]',
    ]) {
      assert.throws(
        () => parseNrasToken(input),
        (e: unknown) => e instanceof CloisterError && e.code === "nvidia.nras.malformed",
      );
    }
  });
});
