import {
  CHALLENGE_PATH,
  CloisterError,
  parseReleaseRequest,
  RELEASE_PATH,
  RELEASE_PROBLEMS,
  toBase64Url,
} from "@cloister/core";
import type { FastifyInstance } from "fastify";
import type { DeviceKeyRelease } from "../devices/release.js";
import { sendProblem } from "./problem.js";

/** Release requests carry one token of a few hundred bytes. */
const BODY_LIMIT = 64 * 1024;

/**
 * The edge key-release endpoints (cloister/edge-release/v1, see @cloister/core edge-release).
 * Only the instance ID, key id and verdict are logged: never a token, a key or a challenge.
 */
export function registerDeviceRoutes(app: FastifyInstance, release: DeviceKeyRelease): void {
  app.post(CHALLENGE_PATH, async (_request, reply) => {
    const challenge = release.challenge();
    return reply.code(201).send({
      challengeId: challenge.challengeId,
      challenge: toBase64Url(challenge.challenge),
      expiresAt: challenge.expiresAt.toISOString(),
    });
  });

  app.post(RELEASE_PATH, { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    let parsed: ReturnType<typeof parseReleaseRequest>;
    try {
      parsed = parseReleaseRequest(request.body);
    } catch (error) {
      if (!(error instanceof CloisterError)) throw error;
      return sendProblem(reply, {
        type: RELEASE_PROBLEMS.malformed,
        title: "Malformed release request",
        status: 400,
        detail: error.message,
      });
    }
    const outcome = await release.release(parsed);
    const instanceId = outcome.result?.claims?.hardwareId;
    request.log.info(
      { keyId: parsed.keyId, instanceId, verdict: outcome.result?.verdict, outcome: outcome.kind },
      "device key release",
    );
    if (outcome.kind === "refused") {
      return reply
        .code(outcome.status)
        .type("application/problem+json")
        .send({
          type: RELEASE_PROBLEMS.refused,
          title: "Key release refused",
          status: outcome.status,
          detail: outcome.reasons.map((r) => r.message).join(" "),
          reasons: outcome.reasons,
        });
    }
    return reply.send({
      keyId: outcome.key.keyId,
      enc: toBase64Url(outcome.key.enc),
      wrappedKey: toBase64Url(outcome.key.wrappedKey),
      verdict: outcome.result.verdict,
      checks: outcome.result.checks,
    });
  });
}
