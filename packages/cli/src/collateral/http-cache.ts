/**
 * What the collateral adapters (AMD KDS, Intel PCS/PCCS) share: the typed fetch error, one
 * GET at a time with a single wait-out of a short Retry-After, atomic cache writes, and the
 * DER shape check that tells a certificate or CRL from an error page.
 *
 * The services rate-limit hard and everything they serve is public and verified by core
 * afterwards, so the rules are the same for both: be polite to the service, and never let a
 * reader see half a cache entry. Each adapter decides what it caches and for how long.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CloisterError } from "@cloister/core";

/**
 * Fetching collateral failed. Messages name at most the URL and HTTP status (the cache
 * directory for cache errors): never response bodies, which an attacker on the path controls.
 */
export class CollateralFetchError extends CloisterError {
  readonly url: string | undefined;
  readonly status: number | undefined;

  constructor(
    code: string,
    message: string,
    details: { url?: string; status?: number; cause?: unknown } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.url = details.url;
    this.status = details.status;
  }
}

/** The service an adapter talks to, as its messages name it and its error codes begin. */
export interface Service {
  /** In messages: "KDS answered HTTP 404 for …". */
  readonly name: string;
  /** Error-code prefix: "kds" gives "kds.http_status", "kds.timeout", … */
  readonly code: string;
  /** The Accept header of every request. */
  readonly accept: string;
}

export interface HttpOptions {
  fetch?: typeof fetch;
  /** Per HTTP request, body included; defaults to 15000. */
  timeoutMs?: number;
  /** Called with each URL just before it is requested, for progress lines. */
  onRequest?: (url: string) => void;
}

/** A successful answer: its bytes and headers. */
export interface Fetched {
  readonly body: Uint8Array;
  readonly headers: Headers;
}

const DEFAULT_TIMEOUT_MS = 15_000;
/** The longest Retry-After we wait out; anything longer fails rather than hang the command. */
const MAX_RETRY_AFTER_MS = 10_000;
/** Wait used when a 429 carries no usable Retry-After. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

/** The cache file for a URL: its SHA-256 keeps distinct URLs apart, the suffix says what it is. */
export function cacheFile(dir: string, url: string, suffix: string): string {
  return join(dir, `${createHash("sha256").update(url).digest("hex")}-${suffix}`);
}

/** Writes via a temporary file and rename, so a reader never sees half an entry. */
export async function store(
  service: Service,
  dir: string,
  file: string,
  bytes: Uint8Array,
): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(temp, bytes, { mode: 0o644 });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw new CollateralFetchError(
      `${service.code}.cache`,
      `Could not write to the collateral cache in ${dir}.`,
      { cause: error },
    );
  }
}

/** Every collateral request in this process, chained so that at most one is in flight. */
let queue: Promise<unknown> = Promise.resolve();

/** Runs the task after every task queued before it has settled. */
export function serialised<T>(task: () => Promise<T>): Promise<T> {
  const run = queue.then(task, task);
  queue = run.catch(() => undefined);
  return run;
}

/**
 * One GET, retried once after a 429 whose Retry-After is short enough to wait out. Anything
 * but a 2xx is an error. Callers queue it with `serialised`.
 */
export async function get(service: Service, url: string, options: HttpOptions): Promise<Fetched> {
  const first = await request(service, url, options);
  if (first.status !== 429) return read(service, url, first);
  await first.body?.cancel();
  const waitMs = retryAfterMs(first.headers.get("retry-after"));
  if (waitMs === undefined) throw rateLimited(service, url);
  await sleep(waitMs);
  const second = await request(service, url, options);
  if (second.status === 429) {
    await second.body?.cancel();
    throw rateLimited(service, url);
  }
  return read(service, url, second);
}

async function request(service: Service, url: string, options: HttpOptions): Promise<Response> {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  options.onRequest?.(url);
  try {
    return await doFetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: service.accept },
    });
  } catch (error) {
    throw transportError(service, url, timeoutMs, error);
  }
}

async function read(service: Service, url: string, response: Response): Promise<Fetched> {
  if (!response.ok) {
    await response.body?.cancel();
    throw new CollateralFetchError(
      `${service.code}.http_status`,
      `${service.name} answered HTTP ${response.status} for ${url}.`,
      { url, status: response.status },
    );
  }
  try {
    return { body: new Uint8Array(await response.arrayBuffer()), headers: response.headers };
  } catch (error) {
    // The timeout signal also covers reading the body.
    throw transportError(service, url, undefined, error);
  }
}

function transportError(
  service: Service,
  url: string,
  timeoutMs: number | undefined,
  error: unknown,
): CollateralFetchError {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    const after = timeoutMs === undefined ? "" : ` within ${timeoutMs} ms`;
    return new CollateralFetchError(
      `${service.code}.timeout`,
      `${service.name} did not answer ${url}${after}.`,
      { url, cause: error },
    );
  }
  return new CollateralFetchError(
    `${service.code}.network`,
    `Could not reach ${service.name} at ${url}.`,
    { url, cause: error },
  );
}

function rateLimited(service: Service, url: string): CollateralFetchError {
  return new CollateralFetchError(
    `${service.code}.rate_limited`,
    `${service.name} answered HTTP 429 (rate limited) for ${url}; try again later.`,
    { url, status: 429 },
  );
}

/**
 * Retry-After as milliseconds (delay-seconds or an HTTP date), or undefined when it asks for
 * longer than we are willing to wait. A missing or malformed header gets a short default.
 */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === "") return DEFAULT_RETRY_AFTER_MS;
  const value = header.trim();
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - Date.now();
  if (Number.isNaN(ms)) return DEFAULT_RETRY_AFTER_MS;
  if (ms > MAX_RETRY_AFTER_MS) return undefined;
  return Math.max(0, ms);
}

/**
 * A single DER SEQUENCE whose encoded length is exactly the byte count: enough to catch HTML
 * error pages and truncated files without parsing the certificate or CRL (core does that).
 */
export function isDer(bytes: Uint8Array): boolean {
  if (bytes.length < 2 || bytes[0] !== 0x30) return false;
  const first = bytes[1] as number;
  if (first < 0x80) return bytes.length === 2 + first;
  const lengthBytes = first & 0x7f;
  if (lengthBytes === 0 || lengthBytes > 4 || bytes.length < 2 + lengthBytes) return false;
  let length = 0;
  for (let i = 0; i < lengthBytes; i++) length = length * 256 + (bytes[2 + i] as number);
  return bytes.length === 2 + lengthBytes + length;
}
