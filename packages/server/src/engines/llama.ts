/**
 * The local engine: GGUF models through node-llama-cpp (llama.cpp), on CUDA when present and
 * on the CPU otherwise.
 *
 * Generation is a hand-written loop over a context sequence rather than node-llama-cpp's
 * LlamaCompletion/LlamaChat, because the engine contract needs what those hide or decide
 * differently: exact token counts (including the end token), OpenAI sampling defaults (no top-k,
 * no repeat penalty, a fresh random seed), stop strings whose text is never streamed, prompts
 * that are refused instead of silently truncated, and no context shifting mid-generation.
 *
 * Concurrency: one LlamaContext holding `parallel` sequences. node-llama-cpp batches the
 * sequences' pending tokens into a single llama_decode, so concurrent requests read the weights
 * once per step and share one thread pool and one KV allocation; N separate contexts would each
 * decode on their own, multiplying weight reads and competing for the same cores. A request
 * waits for a free sequence, and the sequence's KV cells are cleared before the next request
 * gets it, so no request can observe another's cached prefix (e.g. through timing).
 */

import { createHash, randomInt } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { CloisterError } from "@cloister/core";
import {
  type ChatHistoryItem,
  getLlama,
  JinjaTemplateChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import type {
  ChatEngine,
  ChatMessage,
  FinishReason,
  GenerateOptions,
  Generation,
} from "./engine.js";

export interface LlamaEngineOptions {
  readonly modelPath: string;
  /** Model id for clients; defaults to the file name without ".gguf". */
  readonly id?: string;
  /** "auto" (default): CUDA or Vulkan when a prebuilt binary for it works here, else the CPU. */
  readonly gpu?: "auto" | false;
  /** CPU threads for evaluation; see `defaultThreads`. */
  readonly threads?: number;
  /** Tokens per sequence; defaults to what fits in memory, at most the model's training context and 4096. */
  readonly contextSize?: number;
  /** Generations that run at once (default 1); more requests wait for a free sequence. */
  readonly parallel?: number;
  /**
   * The model's signature verified before load (see models/prepare.ts): its signed digest and
   * signer go into the manifest instead of a digest of the file.
   */
  readonly verified?: { readonly digest: string; readonly signer: string };
}

/** A prompt that leaves no room in the context for even one generated token. */
export class ContextOverflowError extends CloisterError {
  readonly promptTokens: number;
  readonly contextSize: number;

  constructor(promptTokens: number, contextSize: number) {
    super(
      "engine.context_overflow",
      `The prompt is ${promptTokens} tokens long, but the model's context holds ${contextSize} tokens ` +
        "for the prompt and the completion together; shorten the prompt.",
    );
    this.promptTokens = promptTokens;
    this.contextSize = contextSize;
  }
}

const DEFAULT_MAX_CONTEXT = 4096;
/**
 * Below this file size, one thread is the default: a step of such a model is so short that
 * synchronising threads costs more than they save. For the 4 MB demo model on a 2-core VM,
 * 1 thread gave ~1,390 tokens/s and 2 threads ~80. Larger models get every core.
 */
const SMALL_MODEL_BYTES = 50 * 1024 * 1024;
/** The longest UTF-8 encoding of a character: how many byte tokens may form one character. */
const MAX_UTF8_BYTES = 4;
const REPLACEMENT_CHARACTER = "\uFFFD";
const CLOSED = "The engine has been closed.";

export async function loadLlamaEngine(options: LlamaEngineOptions): Promise<ChatEngine> {
  const { modelPath, gpu = "auto", parallel = 1 } = options;
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new RangeError("parallel must be a positive integer");

  const { size } = await stat(modelPath);
  const llama = await getLlama({ build: "never", gpu });
  try {
    const [digest, model] = await Promise.all([
      options.verified?.digest ?? sha256File(modelPath),
      llama.loadModel({ modelPath }),
    ]);
    const context = await model.createContext({
      sequences: parallel,
      contextSize: options.contextSize ?? {
        max: Math.min(model.trainContextSize, DEFAULT_MAX_CONTEXT),
      },
      threads: options.threads ?? defaultThreads(size, llama),
    });
    const template = model.fileInfo.metadata.tokenizer?.chat_template;
    return new LlamaChatEngine({
      id: options.id ?? basename(modelPath).replace(/\.gguf$/i, ""),
      digest,
      ...(options.verified === undefined ? {} : { signer: options.verified.signer }),
      llama,
      model,
      context,
      chatWrapper: template
        ? new JinjaTemplateChatWrapper({ template, tokenizer: model.tokenizer, reasoning: null })
        : null,
    });
  } catch (error) {
    await llama.dispose();
    throw error;
  }
}

function defaultThreads(modelBytes: number, llama: Llama): number {
  return modelBytes < SMALL_MODEL_BYTES ? 1 : llama.cpuMathCores;
}

/** Streams the file through SHA-256, so a multi-gigabyte model is never held in memory. */
async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk);
  return `sha256:${hash.digest("hex")}`;
}

interface Prompt {
  readonly tokens: readonly Token[];
  /** End-of-turn tokens of the chat template, on top of the model's end-of-generation tokens. */
  readonly stopTokens: ReadonlySet<Token>;
  readonly stopStrings: readonly string[];
}

class LlamaChatEngine implements ChatEngine {
  readonly kind = "chat";
  readonly id: string;
  readonly digest: string;
  readonly signer?: string;
  readonly contextSize: number;
  readonly #llama: Llama;
  readonly #model: LlamaModel;
  readonly #context: LlamaContext;
  readonly #chatWrapper: JinjaTemplateChatWrapper | null;
  readonly #sequences: SequencePool;
  #closed = false;

  constructor(parts: {
    id: string;
    digest: string;
    signer?: string;
    llama: Llama;
    model: LlamaModel;
    context: LlamaContext;
    chatWrapper: JinjaTemplateChatWrapper | null;
  }) {
    this.id = parts.id;
    this.digest = parts.digest;
    if (parts.signer !== undefined) this.signer = parts.signer;
    this.#llama = parts.llama;
    this.#model = parts.model;
    this.#context = parts.context;
    this.#chatWrapper = parts.chatWrapper;
    this.contextSize = parts.context.contextSize;
    this.#sequences = new SequencePool(
      Array.from({ length: parts.context.totalSequences }, () => parts.context.getSequence()),
    );
  }

  async complete(prompt: string, options: GenerateOptions): Promise<Generation> {
    this.#ensureOpen();
    const tokens = this.#withBos(this.#model.tokenize(prompt, false));
    return this.#generate({ tokens, stopTokens: new Set(), stopStrings: [] }, options);
  }

  async chat(messages: readonly ChatMessage[], options: GenerateOptions): Promise<Generation> {
    this.#ensureOpen();
    return this.#generate(
      this.#chatWrapper ? this.#templated(messages, this.#chatWrapper) : this.#plain(messages),
      options,
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#sequences.close(new CloisterError("engine.closed", CLOSED));
    await this.#context.dispose();
    await this.#model.dispose();
    await this.#llama.dispose();
  }

  /** The model's own chat template. Message contents stay plain text: never parsed as special tokens. */
  #templated(messages: readonly ChatMessage[], wrapper: JinjaTemplateChatWrapper): Prompt {
    const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
      if (m.role === "system") return { type: "system", text: m.content };
      if (m.role === "user") return { type: "user", text: m.content };
      return { type: "model", response: [m.content] };
    });
    // A trailing assistant message is a reply to continue; otherwise open a new one.
    if (messages.at(-1)?.role !== "assistant") history.push({ type: "model", response: [] });
    const { contextText, stopGenerationTriggers } = wrapper.generateContextState({
      chatHistory: history,
    });

    const stopTokens = new Set<Token>();
    const stopStrings: string[] = [];
    for (const trigger of stopGenerationTriggers) {
      const first = trigger.tokenize(this.#model.tokenizer)[0];
      // Templates end a turn with a special token (e.g. "<|im_end|>"), which the model emits as
      // that one token: stop on the token. Plain-text turn ends are matched as text.
      if (first !== undefined && this.#model.isSpecialToken(first)) stopTokens.add(first);
      else if (trigger.toString() !== "") stopStrings.push(trigger.toString());
    }
    return {
      tokens: this.#withBos(contextText.tokenize(this.#model.tokenizer)),
      stopTokens,
      stopStrings,
    };
  }

  /**
   * For models without a template: a short transcript, "User: …\nAssistant:", with no default
   * system prompt, so that it fits the small contexts of the models that lack templates.
   */
  #plain(messages: readonly ChatMessage[]): Prompt {
    const speaker = { system: "System", user: "User", assistant: "Assistant" } as const;
    const lines = messages.map((m) => `${speaker[m.role]}: ${m.content}`);
    if (messages.at(-1)?.role !== "assistant") lines.push(`${speaker.assistant}:`);
    const tokens = this.#withBos(this.#model.tokenize(lines.join("\n"), false));
    return { tokens, stopTokens: new Set(), stopStrings: [`\n${speaker.user}:`] };
  }

  /** Prepends BOS when the model wants it and the prompt (e.g. its template) has not put it there. */
  #withBos(tokens: Token[]): Token[] {
    const bos = this.#model.tokens.bos;
    if (bos === null || !this.#model.tokens.shouldPrependBosToken || tokens[0] === bos)
      return tokens;
    return [bos, ...tokens];
  }

  #ensureOpen(): void {
    if (this.#closed) throw new CloisterError("engine.closed", CLOSED);
  }

  async #generate(prompt: Prompt, options: GenerateOptions): Promise<Generation> {
    const { signal, onText } = options;
    if (!(Number.isInteger(options.maxTokens) && options.maxTokens >= 1)) {
      throw new CloisterError(
        "engine.invalid_options",
        "maxTokens must be a whole number of at least 1.",
      );
    }
    const promptTokens = prompt.tokens.length;
    if (promptTokens === 0) {
      throw new CloisterError(
        "engine.empty_prompt",
        "The prompt is empty and this model adds no beginning-of-text token, so there is nothing to continue.",
      );
    }
    // The sequence holds contextSize - 1 evaluated tokens; the last generated one is never evaluated.
    if (promptTokens >= this.contextSize)
      throw new ContextOverflowError(promptTokens, this.contextSize);
    signal?.throwIfAborted();

    const limit = Math.min(options.maxTokens, this.contextSize - promptTokens);
    const stops = new StopStrings([...prompt.stopStrings, ...(options.stop ?? [])]);
    const seen = [...prompt.tokens];
    let pending: Token[] = [];
    let text = "";
    let completionTokens = 0;
    let finishReason: FinishReason = "length";
    let stopStringReached = false;
    const release = (released: string) => {
      if (released === "") return;
      text += released;
      onText?.(released);
    };
    const emit = (piece: string) => {
      const { text: released, stopped } = stops.push(piece);
      release(released);
      if (stopped) {
        stopStringReached = true;
        finishReason = "stop";
      }
    };

    const sequence = await this.#sequences.acquire(signal);
    try {
      const tokens = sequence.evaluate([...prompt.tokens], samplerOptions(options));
      for await (const token of tokens) {
        signal?.throwIfAborted();
        completionTokens += 1;
        if (this.#model.isEogToken(token) || prompt.stopTokens.has(token)) {
          finishReason = "stop";
          break;
        }
        pending.push(token);
        // A character split over byte tokens decodes to U+FFFD until its last byte arrives.
        const piece = this.#model.detokenize(pending, false, seen);
        if (!piece.endsWith(REPLACEMENT_CHARACTER) || pending.length >= MAX_UTF8_BYTES) {
          seen.push(...pending);
          pending = [];
          emit(piece);
          if (stopStringReached) break;
        }
        if (completionTokens >= limit) break;
      }
      if (!stopStringReached) {
        // An unfinished last character is dropped rather than sent broken; text held back as a
        // possible stop string start is released, unless finishing it completes one.
        emit(this.#model.detokenize(pending, false, seen).replace(/\uFFFD+$/, ""));
        if (!stopStringReached) release(stops.flush());
      }
    } finally {
      if (!this.#closed) {
        await sequence.clearHistory();
        this.#sequences.release(sequence);
      }
    }
    return { text, finishReason, promptTokens, completionTokens };
  }
}

function samplerOptions({ temperature, topP, seed }: GenerateOptions) {
  if (temperature <= 0) return { temperature: 0, yieldEogToken: true };
  return {
    temperature,
    topP: topP ?? 1,
    // node-llama-cpp defaults to top-k 40; OpenAI semantics sample from the whole vocabulary.
    topK: 0,
    minP: 0,
    // Its default seed is the time in whole seconds, which would give requests in the same
    // second the same draw; a random 32-bit seed each time unless the caller fixes one.
    seed: seed === undefined ? randomInt(2 ** 32) : ((seed % 2 ** 32) + 2 ** 32) % 2 ** 32,
    yieldEogToken: true,
  };
}

/**
 * Stop strings over streamed text. Text that could still turn out to be the start of a stop
 * string is held back until it cannot, so a stop string never reaches the client in part.
 */
class StopStrings {
  readonly #stops: readonly string[];
  #held = "";

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((s) => s !== "");
  }

  /** Adds generated text; returns what may be released, and whether a stop string was reached. */
  push(piece: string): { text: string; stopped: boolean } {
    const buffer = this.#held + piece;
    let cut = -1;
    for (const stop of this.#stops) {
      const at = buffer.indexOf(stop);
      if (at !== -1 && (cut === -1 || at < cut)) cut = at;
    }
    if (cut !== -1) {
      this.#held = "";
      return { text: buffer.slice(0, cut), stopped: true };
    }
    const keep = this.#longestPartialMatch(buffer);
    this.#held = buffer.slice(buffer.length - keep);
    return { text: buffer.slice(0, buffer.length - keep), stopped: false };
  }

  /** The held text, once generation ended without completing a stop string. */
  flush(): string {
    const held = this.#held;
    this.#held = "";
    return held;
  }

  /** Length of the longest suffix of `text` that is a proper prefix of some stop string. */
  #longestPartialMatch(text: string): number {
    let best = 0;
    for (const stop of this.#stops) {
      for (let n = Math.min(stop.length - 1, text.length); n > best; n--) {
        if (text.endsWith(stop.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}

/** The context's sequences, handed out one request at a time, first come first served. */
class SequencePool {
  readonly #free: LlamaContextSequence[];
  readonly #waiting: {
    resolve: (s: LlamaContextSequence) => void;
    reject: (reason: unknown) => void;
  }[] = [];
  #closedWith: unknown;

  constructor(sequences: LlamaContextSequence[]) {
    this.#free = sequences;
  }

  acquire(signal: AbortSignal | undefined): Promise<LlamaContextSequence> {
    if (this.#closedWith !== undefined) return Promise.reject(this.#closedWith);
    const free = this.#free.pop();
    if (free !== undefined) return Promise.resolve(free);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        reject(signal?.reason);
      };
      const waiter = {
        resolve: (sequence: LlamaContextSequence) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(sequence);
        },
        reject: (reason: unknown) => {
          signal?.removeEventListener("abort", onAbort);
          reject(reason);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  release(sequence: LlamaContextSequence): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#free.push(sequence);
    else next.resolve(sequence);
  }

  close(reason: unknown): void {
    this.#closedWith = reason;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(reason);
  }
}
