/**
 * The requests the workload serves, independent of how they arrived: decapsulated from OHTTP
 * (the normal way in) or, in --insecure-plaintext mode only, straight from HTTP.
 */
export type Fields = readonly (readonly [string, string])[];

export interface InnerRequest {
  readonly method: string;
  /** Path and query, e.g. "/v1/chat/completions". */
  readonly path: string;
  readonly headers: Fields;
  readonly body: Uint8Array;
  /** Aborted when the caller goes away: generation stops. */
  readonly signal: AbortSignal;
}

export interface InnerResponse {
  readonly status: number;
  readonly headers: Fields;
  /** Whole bodies are bytes; streamed bodies (SSE) are produced piece by piece. */
  readonly body: Uint8Array | AsyncIterable<Uint8Array>;
  /** What the receipt names as the answering model: a digest, "unverified" or "none". */
  readonly model: string;
}

export type InnerHandler = (request: InnerRequest) => Promise<InnerResponse>;
