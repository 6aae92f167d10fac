import { concat } from "@cloister/core";

/**
 * A byte stream fed by callbacks: engines report text through `onText`, routes hand the stream
 * to whichever transport is sending it. Unbounded, which is fine for text at token rate.
 * Whatever has queued up by the time the consumer asks is handed over as one piece, so a
 * consumer slower than the engine sends (and seals) fewer, larger chunks instead of falling
 * further behind; a consumer that keeps up still gets every piece the moment it is pushed.
 */
export class PushStream implements AsyncIterable<Uint8Array> {
  readonly #items: Uint8Array[] = [];
  #done = false;
  #error: unknown;
  #wake: (() => void) | undefined;

  push(item: Uint8Array): void {
    if (this.#done) return;
    this.#items.push(item);
    this.#notify();
  }

  end(): void {
    this.#done = true;
    this.#notify();
  }

  fail(error: unknown): void {
    this.#error ??= error ?? new Error("stream failed");
    this.#done = true;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    while (true) {
      if (this.#items.length > 0) {
        yield concat(this.#items.splice(0));
        continue;
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#done) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }
}
