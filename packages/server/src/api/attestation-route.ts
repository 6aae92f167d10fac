import {
  ATTESTATION_PATH,
  fromHex,
  NONCE_MAX_BYTES,
  NONCE_MIN_BYTES,
  PROBLEMS,
} from "@cloister/core";
import type { FastifyInstance } from "fastify";
import { type Attestor, RateLimitedError } from "../attestation/attestor.js";
import { sendProblem } from "./problem.js";

/** GET /v1/attestation[?nonce=<hex>]: the attestation bundle; with a nonce, fresh evidence for it. */
export function registerAttestation(app: FastifyInstance, attestor: Attestor): void {
  app.get<{ Querystring: { nonce?: string } }>(ATTESTATION_PATH, async (request, reply) => {
    const hex = request.query.nonce;
    let nonce: Uint8Array | undefined;
    if (hex !== undefined) {
      nonce = fromHex(hex);
      if (nonce === undefined || nonce.length < NONCE_MIN_BYTES || nonce.length > NONCE_MAX_BYTES) {
        return sendProblem(reply, {
          type: PROBLEMS.badNonce,
          title: "Bad nonce",
          status: 400,
          detail: `The nonce must be ${NONCE_MIN_BYTES} to ${NONCE_MAX_BYTES} bytes written as hex.`,
        });
      }
    }
    try {
      const bundle = await attestor.bundle(nonce);
      return reply
        .header("cache-control", nonce === undefined ? "no-cache" : "no-store")
        .send(bundle);
    } catch (error) {
      if (error instanceof RateLimitedError) {
        return sendProblem(reply.header("retry-after", "1"), {
          type: PROBLEMS.rateLimited,
          title: "Too many fresh-evidence requests",
          status: 429,
          detail: error.message,
        });
      }
      throw error;
    }
  });
}
