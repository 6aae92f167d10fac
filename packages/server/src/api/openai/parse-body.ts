import type { z } from "zod";
import type { InnerResponse } from "../inner.js";
import { openAiError } from "./errors.js";

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * JSON body -> validated request, or the OpenAI-shaped 400 to send back. Error messages name
 * the offending parameter and rule, never its value (values may be prompts).
 */
export function parseBody<S extends z.ZodType>(
  schema: S,
  body: Uint8Array,
): { ok: true; value: z.infer<S> } | { ok: false; response: InnerResponse } {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch {
    return {
      ok: false,
      response: openAiError(
        400,
        "invalid_request_error",
        "invalid_json",
        "The request body is not valid UTF-8 JSON.",
      ),
    };
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  const param = issue === undefined || issue.path.length === 0 ? null : issue.path.join(".");
  return {
    ok: false,
    response: openAiError(
      400,
      "invalid_request_error",
      "invalid_request",
      `Invalid request${param === null ? "" : ` parameter '${param}'`}: ${issue?.message ?? "malformed"}.`,
      param,
    ),
  };
}
