import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  AEAD_CHACHA20_POLY1305,
  CloisterError,
  concat,
  decapsulateChunkedRequest,
  decapsulateRequest,
  decodeKeyConfig,
  decodeKeyConfigList,
  decodeRequest,
  decodeResponse,
  encapsulateChunkedRequest,
  encapsulateRequest,
  encodeRequest,
  encodeResponse,
  type Fields,
  generateGatewayKey,
  KDF_HKDF_SHA256,
  ResponseStreamDecoder,
  ResponseStreamEncoder,
  type ResponseStreamEvent,
} from "@cloister/core";
import fc from "fast-check";
import { readAll, streamOf, vectorBytes } from "./vectors.js";

const chars = (min: number, max: number, except: readonly number[] = []) =>
  fc.integer({ min, max }).filter((c) => !except.includes(c));
const text = (char: fc.Arbitrary<number>, minLength: number, maxLength: number) =>
  fc.array(char, { minLength, maxLength }).map((codes) => String.fromCharCode(...codes));

const TOKEN = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz";
const name = text(fc.constantFrom(...[...TOKEN].map((c) => c.charCodeAt(0))), 1, 16);
const method = name.map((n) => n.toUpperCase());
const controlText = text(chars(0x21, 0xff, [0x7f]), 0, 40);
const value = text(chars(0x01, 0xff, [0x0a, 0x0d]), 0, 40).filter((v) => !/^[ \t]|[ \t]$/.test(v));
const fields: fc.Arbitrary<Fields> = fc.array(fc.tuple(name, value), { maxLength: 6 });
const content = fc.uint8Array({ maxLength: 400 });

const requestMessage = fc.record({
  method,
  scheme: controlText,
  authority: controlText,
  path: controlText,
  headers: fields,
  content,
  trailers: fields,
});
const responseMessage = fc.record({
  status: fc.integer({ min: 200, max: 599 }),
  headers: fields,
  content,
  trailers: fields,
  informational: fc.array(
    fc.record({ status: fc.integer({ min: 100, max: 199 }), headers: fields }),
    { maxLength: 2 },
  ),
});

const suite = fc
  .constantFrom(AEAD_AES_128_GCM, AEAD_AES_256_GCM, AEAD_CHACHA20_POLY1305)
  .map((aeadId) => ({ kdfId: KDF_HKDF_SHA256, aeadId }));

/** Cut points for splitting a byte string; sometimes every byte. */
const cuts = fc.oneof(
  fc.array(fc.nat({ max: 2000 }), { maxLength: 12 }),
  fc.constant(Array.from({ length: 2000 }, (_, i) => i)),
);

function split(bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const sorted = [...new Set(points.filter((p) => p > 0 && p < bytes.length))].sort(
    (a, b) => a - b,
  );
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const p of [...sorted, bytes.length]) {
    pieces.push(bytes.subarray(from, p));
    from = p;
  }
  return pieces;
}

/** fast-check builds records without a prototype; strict deep equality would count that. */
function plain<T>(value: T): T {
  return structuredClone(value);
}

function onlyTyped(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
  }
}

async function onlyTypedAsync(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
  }
}

const keys = Promise.all([generateGatewayKey(1), generateGatewayKey(2)]);

test("property: Binary HTTP requests round-trip, truncated or not", () => {
  fc.assert(
    fc.property(requestMessage, fc.boolean(), (message, truncate) => {
      assert.deepEqual(decodeRequest(encodeRequest(message, { truncate })), plain(message));
    }),
  );
});

test("property: Binary HTTP responses round-trip with informational responses", () => {
  fc.assert(
    fc.property(responseMessage, fc.boolean(), (message, truncate) => {
      assert.deepEqual(decodeResponse(encodeResponse(message, { truncate })), plain(message));
    }),
  );
});

test("property: streamed responses decode the same however the bytes are split", () => {
  fc.assert(
    fc.property(
      responseMessage,
      fc.array(fc.uint8Array({ maxLength: 60 }), { maxLength: 6 }),
      cuts,
      (message, pieces, points) => {
        const encoder = new ResponseStreamEncoder();
        const bytes = concat([
          encoder.head(message.status, message.headers),
          ...pieces.map((p) => encoder.content(p)),
          encoder.end(message.trailers),
        ]);
        const decoder = new ResponseStreamDecoder();
        const events: ResponseStreamEvent[] = [];
        for (const piece of split(bytes, points)) events.push(...decoder.push(piece));
        events.push(...decoder.finish());
        assert.deepEqual(events[0], {
          type: "head",
          status: message.status,
          headers: message.headers,
        });
        assert.deepEqual(events[events.length - 1], { type: "end", trailers: message.trailers });
        const data = events.flatMap((e) => (e.type === "content" ? [e.data] : []));
        assert.ok(data.every((d) => d.length > 0));
        assert.deepEqual(concat(data), concat(pieces));
        assert.deepEqual(decodeResponse(bytes).content, concat(pieces));
      },
    ),
  );
});

test("property: OHTTP requests and responses round-trip", async () => {
  const [key] = await keys;
  await fc.assert(
    fc.asyncProperty(content, content, suite, async (request, response, s) => {
      const client = await encapsulateRequest(key.config, request, { suite: s });
      const gateway = await decapsulateRequest([key], client.encapsulated);
      assert.deepEqual(gateway.request, request);
      assert.deepEqual(await client.openResponse(await gateway.sealResponse(response)), response);
    }),
    { numRuns: 60 },
  );
});

test("property: chunked OHTTP round-trips any chunking, streamed in any pieces", async () => {
  const [key] = await keys;
  const chunkList = fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 6 });
  await fc.assert(
    fc.asyncProperty(
      chunkList,
      chunkList,
      fc.uint8Array({ maxLength: 80 }),
      cuts,
      suite,
      async (requestChunks, responseChunks, last, points, s) => {
        const client = await encapsulateChunkedRequest(key.config, requestChunks, { suite: s });
        const gateway = await decapsulateChunkedRequest([key], client.encapsulated);
        assert.deepEqual(gateway.request, concat(requestChunks));
        const sealer = await gateway.responseSealer();
        const parts = [sealer.header];
        for (const chunk of responseChunks) parts.push(await sealer.seal(chunk));
        parts.push(await sealer.sealFinal(last));
        const opened = await readAll(client.openResponse(streamOf(concat(parts), points)));
        assert.deepEqual(
          opened,
          [...responseChunks, last].filter((c) => c.length > 0),
        );
      },
    ),
    { numRuns: 60 },
  );
});

// Random bytes, biased towards the start of well-formed input so that parsers go deep.
const bhttpBytes = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc
    .tuple(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 200 }))
    .map(([framing, rest]) => new Uint8Array([framing, ...rest])),
  fc
    .tuple(
      fc.constantFrom(
        vectorBytes("ohttp/bhttp-rfc9292/request-known-length.bhttp"),
        vectorBytes("ohttp/bhttp-rfc9292/request-indeterminate-length.bhttp"),
        vectorBytes("ohttp/bhttp-rfc9292/response-known-length.bhttp"),
        vectorBytes("ohttp/bhttp-rfc9292/response-indeterminate-length.bhttp"),
      ),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.nat(),
    )
    .map(([vector, edits, cut]) => {
      const bytes = vector.slice(0, cut % (vector.length + 1));
      for (const [at, b] of edits) if (bytes.length > 0) bytes[at % bytes.length] = b;
      return bytes;
    }),
);

test("property: random bytes given to the Binary HTTP decoders throw only typed errors", () => {
  fc.assert(
    fc.property(bhttpBytes, cuts, (bytes, points) => {
      onlyTyped(() => decodeRequest(bytes));
      onlyTyped(() => decodeResponse(bytes));
      onlyTyped(() => {
        const decoder = new ResponseStreamDecoder();
        for (const piece of split(bytes, points)) decoder.push(piece);
        decoder.finish();
      });
    }),
    { numRuns: 2000 },
  );
});

test("property: the stream decoder agrees with decodeResponse on any input, however split", () => {
  const outcome = (run: () => unknown) => {
    try {
      return run();
    } catch (error) {
      if (!(error instanceof CloisterError)) throw error;
      return error.code;
    }
  };
  fc.assert(
    fc.property(bhttpBytes, cuts, (bytes, points) => {
      const whole = outcome(() => {
        const r = decodeResponse(bytes);
        return [r.status, r.headers, [...r.content], r.trailers];
      });
      const streamed = outcome(() => {
        const decoder = new ResponseStreamDecoder();
        const events = split(bytes, points).flatMap((piece) => decoder.push(piece));
        events.push(...decoder.finish());
        const head = events[0] as Extract<ResponseStreamEvent, { type: "head" }>;
        const end = events[events.length - 1] as Extract<ResponseStreamEvent, { type: "end" }>;
        const data = events.flatMap((e) => (e.type === "content" ? [...e.data] : []));
        return [head.status, head.headers, data, end.trailers];
      });
      assert.deepEqual(streamed, whole);
    }),
    { numRuns: 2000 },
  );
});

test("property: random bytes given to the key configuration decoders throw only typed errors", () => {
  const config = vectorBytes("ohttp/rfc9458-appendix-a/key-config.bin");
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 120 }),
    fc
      .tuple(fc.nat({ max: 60 }), fc.nat(), fc.integer({ min: 0, max: 255 }))
      .map(([cut, at, b]) => {
        const out = config.slice(0, cut);
        if (out.length > 0) out[at % out.length] = b;
        return out;
      }),
  );
  fc.assert(
    fc.property(bytes, (b) => {
      onlyTyped(() => decodeKeyConfig(b));
      onlyTyped(() => decodeKeyConfigList(b));
      onlyTyped(() => decodeKeyConfigList(new Uint8Array([b.length >> 8, b.length & 0xff, ...b])));
    }),
    { numRuns: 2000 },
  );
});

test("property: random bytes given to the gateway and client throw only typed errors", async () => {
  const gatewayKeys = await keys;
  const [key] = gatewayKeys;
  const client = await encapsulateRequest(key.config, new Uint8Array(3));
  const chunkedClient = await encapsulateChunkedRequest(key.config, new Uint8Array(3));
  const header = fc
    .tuple(fc.constantFrom(1, 2, 3), fc.constantFrom(1, 2, 3, 0xffff))
    .map(([keyId, aeadId]) => new Uint8Array([keyId, 0, 0x20, 0, 1, aeadId >> 8, aeadId & 0xff]));
  const bodies = fc.oneof(
    fc.uint8Array({ maxLength: 120 }),
    fc
      .tuple(header, fc.uint8Array({ maxLength: 120 }))
      .map(([h, rest]) => new Uint8Array([...h, ...rest])),
  );
  await fc.assert(
    fc.asyncProperty(bodies, cuts, async (body, points) => {
      await onlyTypedAsync(() => decapsulateRequest(gatewayKeys, body));
      await onlyTypedAsync(() => decapsulateChunkedRequest(gatewayKeys, body));
      await onlyTypedAsync(() => client.openResponse(body));
      await onlyTypedAsync(() => readAll(chunkedClient.openResponse(streamOf(body, points))));
    }),
    { numRuns: 300 },
  );
});
