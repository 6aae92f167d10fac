import { CloisterError } from "@cloister/core";

/** More requests are waiting than the queue holds. */
export class QueueFullError extends CloisterError {}

/**
 * Admission for inference: at most `parallel` requests run at once, at most `maxWaiting` wait.
 * A waiting request whose caller goes away leaves the line without ever running.
 */
export class WorkQueue {
  readonly #parallel: number;
  readonly #maxWaiting: number;
  readonly #waiting: { resolve: () => void; reject: (reason: unknown) => void }[] = [];
  #running = 0;

  constructor(parallel: number, maxWaiting: number) {
    if (!Number.isInteger(parallel) || parallel < 1)
      throw new RangeError("parallel must be a positive integer");
    this.#parallel = parallel;
    this.#maxWaiting = maxWaiting;
  }

  /** Resolves with a release function once a slot is free. Call it exactly once when done. */
  async acquire(signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    if (this.#running < this.#parallel) {
      this.#running += 1;
      return this.#releaser();
    }
    if (this.#waiting.length >= this.#maxWaiting) {
      throw new QueueFullError(
        "engine.busy",
        `The server is busy: ${this.#waiting.length} requests are already waiting.`,
      );
    }
    await new Promise<void>((resolve, reject) => {
      const entry = {
        resolve: () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(entry), 1);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(entry);
    });
    return this.#releaser();
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next === undefined) this.#running -= 1;
      else next.resolve();
    };
  }
}
