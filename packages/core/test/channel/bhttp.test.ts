import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BhttpError,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  ResponseStreamDecoder,
  ResponseStreamEncoder,
  toHex,
  utf8,
} from "@cloister/core";

const invalid = (field: string) => (e: unknown) =>
  e instanceof BhttpError && e.code === "bhttp.invalid" && e.field === field;

const REQUEST = {
  method: "POST",
  scheme: "https",
  authority: "cloister.example",
  path: "/v1/chat/completions",
  headers: [["content-type", "application/json"]] as const,
  content: utf8("{}"),
  trailers: [],
};

test("encoding lower-cases names and keeps values as bytes (one byte per code point)", () => {
  const request = decodeRequest(encodeRequest({ ...REQUEST, headers: [["X-Cafe", "caf\u00e9"]] }));
  assert.deepEqual(request.headers, [["x-cafe", "caf\u00e9"]]);
  assert.throws(
    () => encodeRequest({ ...REQUEST, headers: [["x", "\u20ac"]] }),
    invalid("header field"),
  );
});

test("encoding refuses what a decoder would reject", () => {
  for (const headers of [
    [["", "v"]],
    [["bad name", "v"]],
    [["x", "a\r\nInjected: yes"]],
    [["x", " padded"]],
    [[":path", "/"]],
    [
      ["x", "1"],
      [":protocol", "websocket"],
    ],
  ] as const) {
    assert.throws(() => encodeRequest({ ...REQUEST, headers }), invalid("header field"));
  }
  assert.throws(
    () => encodeRequest({ ...REQUEST, trailers: [[":protocol", "x"]] }),
    invalid("trailer field"),
  );
  assert.throws(() => encodeRequest({ ...REQUEST, method: "" }), invalid("method"));
  assert.throws(() => encodeRequest({ ...REQUEST, method: "GET /" }), invalid("method"));
  assert.throws(() => encodeRequest({ ...REQUEST, path: "/a b" }), invalid("path"));
  assert.throws(
    () => encodeResponse({ status: 199, headers: [], content: new Uint8Array(0), trailers: [] }),
    invalid("status"),
  );
  assert.throws(
    () =>
      encodeResponse({
        status: 200,
        headers: [],
        content: new Uint8Array(0),
        trailers: [],
        informational: [{ status: 200, headers: [] }],
      }),
    invalid("informational status"),
  );
  // A pseudo-field that is not control data may lead the header section.
  const upgrade = decodeRequest(
    encodeRequest({
      ...REQUEST,
      headers: [
        [":protocol", "websocket"],
        ["x", "1"],
      ],
    }),
  );
  assert.deepEqual(upgrade.headers, [
    [":protocol", "websocket"],
    ["x", "1"],
  ]);
});

test("truncation drops only empty trailing parts", () => {
  const base = { ...REQUEST, headers: [], content: new Uint8Array(0) };
  const full = encodeRequest(base);
  assert.equal(toHex(full.subarray(full.length - 3)), "000000");
  const cut = encodeRequest(base, { truncate: true });
  assert.equal(cut.length, full.length - 3);
  const withTrailers = encodeRequest({ ...base, trailers: [["t", "1"]] }, { truncate: true });
  assert.equal(toHex(withTrailers.subarray(withTrailers.length - 7)), "00000401740131");
  for (const bytes of [full, cut, withTrailers]) {
    const decoded = decodeRequest(bytes);
    assert.equal(decoded.path, REQUEST.path);
  }
});

test("the stream encoder writes a response the decoders read back", () => {
  const encoder = new ResponseStreamEncoder();
  const parts = [
    encoder.head(200, [["content-type", "text/event-stream"]]),
    encoder.content(utf8("data: a\n\n")),
    encoder.content(new Uint8Array(0)),
    encoder.content(utf8("data: [DONE]\n\n")),
    encoder.end([["x-usage", "12"]]),
  ];
  assert.equal(parts[2]?.length, 0);
  const bytes = new Uint8Array(parts.flatMap((p) => [...p]));
  const whole = decodeResponse(bytes);
  assert.equal(whole.status, 200);
  assert.equal(new TextDecoder().decode(whole.content), "data: a\n\ndata: [DONE]\n\n");
  assert.deepEqual(whole.trailers, [["x-usage", "12"]]);
  const decoder = new ResponseStreamDecoder();
  const events = parts.flatMap((p) => decoder.push(p));
  events.push(...decoder.finish());
  assert.deepEqual(
    events.map((e) => e.type),
    ["head", "content", "content", "end"],
  );
});

test("the stream encoder insists on head, content, end", () => {
  const order = (e: unknown) => e instanceof BhttpError && e.field === "response stream";
  const encoder = new ResponseStreamEncoder();
  assert.throws(() => encoder.content(utf8("x")), order);
  assert.throws(() => encoder.end(), order);
  encoder.head(204, []);
  assert.throws(() => encoder.head(200, []), order);
  encoder.end();
  assert.throws(() => encoder.content(utf8("x")), order);
  assert.throws(() => new ResponseStreamEncoder().head(99, []), invalid("status"));
});

test("the stream decoder completes truncated responses and refuses cut ones", () => {
  const decoder = new ResponseStreamDecoder();
  assert.deepEqual(decoder.push(new Uint8Array([0x03, 0x40, 0xc8])), []);
  assert.deepEqual(decoder.finish(), [
    { type: "head", status: 200, headers: [] },
    { type: "end", trailers: [] },
  ]);
  const cut = new ResponseStreamDecoder();
  cut.push(new Uint8Array([0x03, 0x40, 0xc8, 0x00, 0x05, 0x61]));
  assert.throws(
    () => cut.finish(),
    (e: unknown) =>
      e instanceof BhttpError && e.code === "bhttp.truncated" && e.field === "content",
  );
  // After an error every call repeats it.
  assert.throws(() => cut.push(new Uint8Array([0x61])), BhttpError);
  const bad = new ResponseStreamDecoder();
  assert.throws(
    () => bad.push(new Uint8Array([0x03, 0x40, 0x63])),
    (e: unknown) => {
      return e instanceof BhttpError && e.field === "status code" && e.offset === 1;
    },
  );
});

test("informational responses are dropped by the stream decoder but kept by decodeResponse", () => {
  const bytes = encodeResponse({
    status: 200,
    headers: [],
    content: utf8("ok"),
    trailers: [],
    informational: [{ status: 103, headers: [["link", "</a>"]] }],
  });
  const decoder = new ResponseStreamDecoder();
  assert.deepEqual(
    [...decoder.push(bytes), ...decoder.finish()].map((e) => e.type),
    ["head", "content", "end"],
  );
  assert.deepEqual(decodeResponse(bytes).informational, [
    { status: 103, headers: [["link", "</a>"]] },
  ]);
});

test("content in 200,000 one-byte chunks decodes in one piece", () => {
  const head = [0x02, 3, ...utf8("GET"), 5, ...utf8("https"), 0, 1, 0x2f, 0];
  const bytes = new Uint8Array(head.length + 2 * 200_000 + 2);
  bytes.set(head);
  for (let i = 0; i < 200_000; i++) {
    bytes[head.length + 2 * i] = 1;
    bytes[head.length + 2 * i + 1] = i & 0xff;
  }
  const request = decodeRequest(bytes);
  assert.equal(request.content.length, 200_000);
  assert.equal(request.content[199_999], 199_999 & 0xff);
});
