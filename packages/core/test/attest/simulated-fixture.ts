import {
  type Evidence,
  SIMULATED_ALG,
  SIMULATED_FORMAT,
  SIMULATED_JWS_TYPE,
  type SimulatedReport,
  simulatedRootId,
  toHex,
  utf8,
} from "@cloister/core";
import { CompactSign, exportJWK, generateKeyPair } from "jose";

export const MEASUREMENT = "a1".repeat(48);
export const INSTANCE_ID = "1d".repeat(32);
export const REPORT_DATA = Uint8Array.from({ length: 64 }, (_, i) => i * 3);
export const NOW = new Date("2026-01-01T00:00:00Z");

export interface SimulatedSigner {
  readonly publicJwk: JsonWebKey;
  readonly id: string;
  /** Signs a report (defaults overridable) and an optional header override, as a TEE would. */
  sign(
    report?: Partial<Record<keyof SimulatedReport, unknown>>,
    header?: Record<string, unknown>,
  ): Promise<Evidence>;
}

/** A throw-away simulated root, made the way the server makes one (ES384, P-384). */
export async function simulatedSigner(): Promise<SimulatedSigner> {
  const { privateKey, publicKey } = await generateKeyPair(SIMULATED_ALG);
  const publicJwk = (await exportJWK(publicKey)) as JsonWebKey;
  const id = await simulatedRootId(publicJwk);
  return {
    publicJwk,
    id,
    async sign(report = {}, header = {}) {
      const payload = {
        v: 1,
        platform: "simulated",
        measurement: MEASUREMENT,
        report_data: toHex(REPORT_DATA),
        debug: false,
        instance_id: INSTANCE_ID,
        iat: Math.floor(NOW.getTime() / 1000),
        ...report,
      };
      const jws = await new CompactSign(utf8(JSON.stringify(payload)))
        .setProtectedHeader({ alg: SIMULATED_ALG, typ: SIMULATED_JWS_TYPE, kid: id, ...header })
        .sign(privateKey);
      return { platform: "simulated", format: SIMULATED_FORMAT, data: utf8(jws) };
    },
  };
}
