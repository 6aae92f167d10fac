import type { InnerResponse } from "../inner.js";

const encoder = new TextEncoder();

export function json(status: number, value: unknown, model = "none"): InnerResponse {
  return {
    status,
    headers: [["content-type", "application/json"]],
    body: encoder.encode(JSON.stringify(value)),
    model,
  };
}

/** Server-sent events as the OpenAI streaming API frames them. */
export function sseEvent(value: unknown): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify(value)}\n\n`);
}

export const SSE_DONE = encoder.encode("data: [DONE]\n\n");
