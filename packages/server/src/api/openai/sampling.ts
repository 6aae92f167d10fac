import type { SamplingOptions } from "../../engines/engine.js";

/** Without max_tokens, generation runs until the model stops or its context is full, capped here. */
export const DEFAULT_MAX_TOKENS = 512;

interface SamplingFields {
  readonly temperature?: number | null | undefined;
  readonly top_p?: number | null | undefined;
  readonly seed?: number | null | undefined;
  readonly stop?: string | readonly string[] | null | undefined;
}

export function samplingOf(
  body: SamplingFields,
  maxTokens: number | null | undefined,
  defaultMax = DEFAULT_MAX_TOKENS,
): SamplingOptions {
  const stop =
    body.stop == null ? undefined : typeof body.stop === "string" ? [body.stop] : body.stop;
  return {
    maxTokens: maxTokens ?? defaultMax,
    // OpenAI's default temperature is 1.
    temperature: body.temperature ?? 1,
    ...(body.top_p == null ? {} : { topP: body.top_p }),
    ...(body.seed == null ? {} : { seed: body.seed }),
    ...(stop === undefined ? {} : { stop }),
  };
}
