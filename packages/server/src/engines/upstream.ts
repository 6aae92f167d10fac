import { CloisterError, type ManifestModel, UNVERIFIED_MODEL } from "@cloister/core";
import type { InnerHandler } from "../api/inner.js";
import { openAiError } from "../api/openai/errors.js";

const FORWARDED_HEADERS = new Set(["content-type", "accept", "authorization"]);

/**
 * Fronts an OpenAI-compatible engine (vLLM, llama-server) running inside the same TEE. Requests
 * arrive decapsulated and leave on loopback; responses stream back and are sealed by the
 * gateway. Cloister cannot hash the upstream's weights, so its models are marked "unverified".
 */
export function upstreamHandler(baseUrl: URL): InnerHandler {
  return async (request) => {
    const target = new URL(request.path, baseUrl);
    const init: RequestInit = {
      method: request.method,
      headers: request.headers
        .filter(([name]) => FORWARDED_HEADERS.has(name))
        .map(([n, v]): [string, string] => [n, v]),
      signal: request.signal,
    };
    if (request.method !== "GET" && request.method !== "HEAD")
      init.body = request.body as Uint8Array<ArrayBuffer>;
    let response: Response;
    try {
      response = await fetch(target, init);
    } catch (error) {
      if (request.signal.aborted) throw error;
      return openAiError(
        502,
        "server_error",
        "upstream_unreachable",
        "The engine behind this workload did not answer.",
      );
    }
    const headers = [...response.headers].filter(
      ([name]) => name === "content-type" || name === "cache-control",
    );
    return {
      status: response.status,
      headers,
      body:
        response.body === null ? new Uint8Array() : (response.body as AsyncIterable<Uint8Array>),
      model: UNVERIFIED_MODEL,
    };
  };
}

/** The upstream's models, for the manifest. Fails fast if it is not an OpenAI-compatible server. */
export async function discoverUpstreamModels(baseUrl: URL): Promise<ManifestModel[]> {
  let body: unknown;
  try {
    const response = await fetch(new URL("/v1/models", baseUrl), {
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`status ${response.status}`);
    body = await response.json();
  } catch (error) {
    throw new CloisterError(
      "upstream.unreachable",
      `Could not list models at ${new URL("/v1/models", baseUrl).href}: is an OpenAI-compatible engine running there?`,
      { cause: error },
    );
  }
  const data = (body as { data?: { id?: unknown }[] }).data;
  if (!Array.isArray(data) || data.some((m) => typeof m.id !== "string")) {
    throw new CloisterError(
      "upstream.models",
      `The upstream at ${baseUrl.origin} answered /v1/models without a list of model ids.`,
    );
  }
  return data.map((m) => ({ id: m.id as string, kind: "chat" as const, digest: UNVERIFIED_MODEL }));
}
