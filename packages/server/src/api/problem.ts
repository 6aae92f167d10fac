import type { Problem } from "@cloister/core";
import type { FastifyReply } from "fastify";

/** Errors said in the clear (RFC 9457 problem details). They never carry request content. */
export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type("application/problem+json").send(problem);
}
