import type { Engine } from "../../engines/engine.js";
import type { EngineRegistry } from "../../engines/registry.js";
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

/** 404 for a model id this workload does not serve, listing the ones it does. */
export function modelNotFound(
  requested: string | undefined,
  kind: Engine["kind"],
  registry: EngineRegistry,
): InnerResponse {
  const served = registry.ids(kind).join(", ") || "none";
  return openAiError(
    404,
    "not_found_error",
    "model_not_found",
    `The model '${requested}' is not served here; ${kind} models: ${served}.`,
    "model",
  );
}
