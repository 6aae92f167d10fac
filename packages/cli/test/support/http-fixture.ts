/**
 * Stand-ins for the collateral services (AMD KDS, Intel PCS) the CLI fetches from: a real HTTP
 * server on 127.0.0.1 that records what it was asked, a fixed table of answers for it, and the
 * throwaway cache folders and rejection reader the fetch tests share.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CollateralFetchError } from "../../src/collateral/http-cache.js";

export interface LoopbackServer {
  baseUrl: string;
  /** Path and query of every request, in arrival order. */
  requests: string[];
  /** The most requests that were open at the same time. */
  maxInFlight: number;
  close(): Promise<void>;
}

/** Answers one request; `n` counts the requests so far, this one included. */
export type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A real HTTP server on 127.0.0.1, on a free port, that hands every request to `handler`. */
export async function startLoopbackServer(handler: Handler): Promise<LoopbackServer> {
  let inFlight = 0;
  const server: LoopbackServer = {
    baseUrl: "",
    requests: [],
    maxInFlight: 0,
    close: async () => {},
  };
  const http = createServer((req, res) => {
    server.requests.push(req.url ?? "");
    inFlight++;
    server.maxInFlight = Math.max(server.maxInFlight, inFlight);
    res.on("close", () => inFlight--);
    handler(req, res, server.requests.length);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  server.baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  // Closing waits for no keep-alive client: a test's server is gone when close() resolves.
  server.close = () =>
    new Promise<void>((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    });
  return server;
}

export interface Route {
  body: Uint8Array | string;
  headers?: Record<string, string>;
}

/**
 * Serves exactly these path+query strings, each after `delayMs`; anything else is a 404 with a
 * text/plain `notFound` body, as the real services answer.
 */
export function routes(table: Record<string, Route>, notFound: string, delayMs = 0): Handler {
  return (req, res) => {
    const route = table[req.url ?? ""];
    setTimeout(() => {
      if (route === undefined) {
        res.writeHead(404, { "content-type": "text/plain" }).end(notFound);
        return;
      }
      res.writeHead(200, route.headers ?? {}).end(route.body);
    }, delayMs);
  };
}

/**
 * Cache folders under fresh temporary folders named `prefix`…; `removeAll` deletes every one
 * made so far (call it from `after`).
 */
export function tempCacheDirs(prefix: string): {
  cacheDir(): Promise<string>;
  removeAll(): Promise<void>;
} {
  const temps: string[] = [];
  return {
    async cacheDir() {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      temps.push(dir);
      return join(dir, "cache");
    },
    async removeAll() {
      for (const dir of temps) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The finished entries of a cache folder: a `.tmp` file is a write still under way. */
export async function cachedFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !name.endsWith(".tmp"));
}

/** The CollateralFetchError `promise` rejects with; anything else fails the test. */
export async function rejection(promise: Promise<unknown>): Promise<CollateralFetchError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CollateralFetchError, `expected CollateralFetchError: ${error}`);
    return error;
  }
  assert.fail("expected a rejection");
}
