/**
 * Inference engines behind one interface. Routes speak OpenAI; engines speak plain text and
 * vectors. An engine never logs what it is given or what it produces.
 */

export interface ChatMessage {
  readonly role: "system" | "user" | "assistant";
  readonly content: string;
}

export interface SamplingOptions {
  /** Upper bound on generated tokens; the engine may stop earlier at end of text or a stop string. */
  readonly maxTokens: number;
  /** 0 means greedy decoding (deterministic). */
  readonly temperature: number;
  readonly topP?: number;
  readonly seed?: number;
  readonly stop?: readonly string[];
}

export type FinishReason = "stop" | "length";

export interface Generation {
  readonly text: string;
  readonly finishReason: FinishReason;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export interface GenerateOptions extends SamplingOptions {
  /** Aborting stops generation promptly; the promise then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Called with each new piece of text as soon as it is decoded (for streaming). */
  readonly onText?: (text: string) => void;
}

export interface ModelInfo {
  /** The id clients use in `model`, e.g. "moby-dick-char". */
  readonly id: string;
  /**
   * "sha256:<hex>": of the model file, or, for a model whose signature verified before load,
   * the digest its model_signing bundle signs. Goes into the workload manifest.
   */
  readonly digest: string;
  /** Who signed the model, when its signature verified before load. */
  readonly signer?: string;
}

export interface ChatEngine extends ModelInfo {
  readonly kind: "chat";
  /** Context window in tokens. */
  readonly contextSize: number;
  chat(messages: readonly ChatMessage[], options: GenerateOptions): Promise<Generation>;
  complete(prompt: string, options: GenerateOptions): Promise<Generation>;
  close(): Promise<void>;
}

export interface Embeddings {
  readonly vectors: readonly Float32Array[];
  readonly promptTokens: number;
}

export interface EmbeddingEngine extends ModelInfo {
  readonly kind: "embeddings";
  readonly dimensions: number;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Embeddings>;
  close(): Promise<void>;
}

export type Engine = ChatEngine | EmbeddingEngine;
