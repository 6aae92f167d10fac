import type { InnerResponse } from "../inner.js";
import { json } from "./json.js";

export type OpenAiErrorType =
  | "invalid_request_error"
  | "not_found_error"
  | "server_error"
  | "overloaded_error";

/** An OpenAI-shaped error body, which the official SDKs turn into their typed exceptions. */
export function openAiError(
  status: number,
  type: OpenAiErrorType,
  code: string,
  message: string,
  param: string | null = null,
): InnerResponse {
  return json(status, { error: { message, type, param, code } });
}
