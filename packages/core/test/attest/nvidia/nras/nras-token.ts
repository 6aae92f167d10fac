import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";

/**
 * NRAS tokens for tests. The corpus holds none, so tests mint tokens shaped like NRAS's (nvtrust
 * attestation SDK test data: overall_granular_claims_remote.json and
 * detached_granular_claims_remote.json, claims version 3.0) with a P-384 key made here.
 */

export const NONCE = "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb";
export const ISS = "https://nras.attestation.nvidia.com";
export const IAT = 1736197319;
export const NOW = new Date((IAT + 60) * 1000);
export const KID = "nv-eat-kid-test";

export const nras = await generateKeyPair("ES384", { extractable: true });
export const other = await generateKeyPair("ES384", { extractable: true });
export const jwks = {
  keys: [{ ...(await exportJWK(nras.publicKey)), kid: KID, alg: "ES384", use: "sig" }],
};

export const gpuClaims = (): JWTPayload => ({
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

export interface Mint {
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

export async function mint(options: Mint = {}): Promise<string> {
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
