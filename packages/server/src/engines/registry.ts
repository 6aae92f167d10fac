import type { ChatEngine, EmbeddingEngine, Engine } from "./engine.js";

/** The engines a workload serves, by model id. The first of each kind is the default. */
export class EngineRegistry {
  readonly #engines: readonly Engine[];

  constructor(engines: readonly Engine[]) {
    const ids = new Set<string>();
    for (const engine of engines) {
      if (ids.has(engine.id))
        throw new Error(`Two engines serve the same model id "${engine.id}".`);
      ids.add(engine.id);
    }
    this.#engines = engines;
  }

  get all(): readonly Engine[] {
    return this.#engines;
  }

  /** The chat engine for `id`, or the default one when `id` is absent. */
  chat(id?: string): ChatEngine | undefined {
    return this.#find("chat", id) as ChatEngine | undefined;
  }

  embeddings(id?: string): EmbeddingEngine | undefined {
    return this.#find("embeddings", id) as EmbeddingEngine | undefined;
  }

  ids(kind: Engine["kind"]): string[] {
    return this.#engines.filter((e) => e.kind === kind).map((e) => e.id);
  }

  async close(): Promise<void> {
    await Promise.all(this.#engines.map((e) => e.close()));
  }

  #find(kind: Engine["kind"], id: string | undefined): Engine | undefined {
    return this.#engines.find((e) => e.kind === kind && (id === undefined || e.id === id));
  }
}
