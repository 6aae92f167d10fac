import { toHex } from "../bytes.js";
import { OhttpError } from "./errors.js";

export interface ReplayCacheOptions {
  /** How far a request's Date may be from now, either way. Default 60 seconds. */
  readonly windowMs?: number;
  /** The most encapsulated keys remembered at once. Default 100,000. */
  readonly maxEntries?: number;
}

interface Entry {
  readonly date: number;
  readonly key: string;
}

/**
 * Bounded replay protection for the gateway, after RFC 9458 section 6.9: a request is
 * accepted only if the Date inside it is within ±windowMs of now and its encapsulated key
 * (`enc`, fresh for every genuine request) was not accepted before. An entry can be
 * forgotten once its Date leaves the window, since a replay of it would be stale anyway.
 * When full, the entry with the oldest Date is evicted and a floor rises to that Date:
 * requests dated at or before the floor are refused as stale, so eviction never re-opens
 * a replay.
 */
export class ReplayCache {
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly seen = new Set<string>();
  /** Min-heap on date: the next entry to expire or to evict is at the root. */
  private readonly heap: Entry[] = [];
  private floor = Number.NEGATIVE_INFINITY;

  constructor(options: ReplayCacheOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 100_000;
    if (!(Number.isFinite(this.windowMs) && this.windowMs > 0)) {
      throw new OhttpError("ohttp.invalid_argument", "windowMs must be a positive number.");
    }
    if (!(Number.isInteger(this.maxEntries) && this.maxEntries > 0)) {
      throw new OhttpError("ohttp.invalid_argument", "maxEntries must be a positive integer.");
    }
  }

  /** How many encapsulated keys are remembered now. */
  get size(): number {
    return this.seen.size;
  }

  /** Accepts the request and remembers `enc`, or throws ohttp.stale or ohttp.replay. */
  check(enc: Uint8Array, requestDate: Date, now: Date): void {
    const date = requestDate.getTime();
    const current = now.getTime();
    if (!Number.isFinite(current)) {
      throw new OhttpError("ohttp.invalid_argument", "now must be a valid time.");
    }
    if (!Number.isFinite(date) || Math.abs(date - current) > this.windowMs) {
      throw new OhttpError(
        "ohttp.stale",
        `The request's Date is missing or more than ${this.windowMs} ms from the gateway's clock.`,
      );
    }
    while (this.heap.length > 0 && (this.heap[0] as Entry).date < current - this.windowMs) {
      this.seen.delete(this.pop().key);
    }
    const key = toHex(enc);
    if (this.seen.has(key)) {
      throw new OhttpError("ohttp.replay", "This encapsulated request was already accepted.");
    }
    if (this.seen.size >= this.maxEntries) {
      // The oldest of the remembered requests and this one must go; refusing this one when
      // it is the oldest keeps the floor lower.
      if ((this.heap[0] as Entry).date >= date) throw this.stale();
      const evicted = this.pop();
      this.seen.delete(evicted.key);
      this.floor = Math.max(this.floor, evicted.date);
    }
    if (date <= this.floor) throw this.stale();
    this.seen.add(key);
    this.push({ date, key });
  }

  private stale(): OhttpError {
    return new OhttpError(
      "ohttp.stale",
      "The request's Date is older than what the full replay cache can still vouch for.",
    );
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    let i = heap.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as Entry).date <= entry.date) break;
      heap[i] = heap[parent] as Entry;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): Entry {
    const heap = this.heap;
    const top = heap[0] as Entry;
    const last = heap.pop() as Entry;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child =
          right < heap.length && (heap[right] as Entry).date < (heap[left] as Entry).date
            ? right
            : left;
        if ((heap[child] as Entry).date >= last.date) break;
        heap[i] = heap[child] as Entry;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}
