import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JWTPayload } from "jose";
import { CloisterError, parseNrasToken, verifyNrasToken } from "../../../../src/index.js";
import { gpuClaims, IAT, jwks, KID, mint, NONCE, NOW, nras, other } from "./nras-token.js";

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
