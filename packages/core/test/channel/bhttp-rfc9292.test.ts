import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BhttpError,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type Fields,
  ResponseStreamDecoder,
  type ResponseStreamEvent,
  utf8,
} from "@cloister/core";
import { vectorBytes } from "./vectors.js";

const DIR = "ohttp/bhttp-rfc9292";
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const REQUEST_HEADERS: Fields = [
  ["user-agent", "curl/7.16.3 libcurl/7.16.3 OpenSSL/0.9.7l zlib/1.2.3"],
  ["host", "www.example.com"],
  ["accept-language", "en, mi"],
];

const EXPECTED_REQUEST = {
  method: "GET",
  scheme: "https",
  authority: "",
  path: "/hello.txt",
  headers: REQUEST_HEADERS,
  content: "",
  trailers: [],
};

const FINAL_HEADERS: Fields = [
  ["date", "Mon, 27 Jul 2009 12:28:53 GMT"],
  ["server", "Apache"],
  ["last-modified", "Wed, 22 Jul 2009 19:15:56 GMT"],
  ["etag", '"34aa387-d-1568eb00"'],
  ["accept-ranges", "bytes"],
  ["content-length", "51"],
  ["vary", "Accept-Encoding"],
  ["content-type", "text/plain"],
];

const INFORMATIONAL = [
  { status: 102, headers: [["running", '"sleep 15"']] },
  {
    status: 103,
    headers: [
      ["link", "</style.css>; rel=preload; as=style"],
      ["link", "</script.js>; rel=preload; as=script"],
    ],
  },
];

const HELLO = "Hello World! My content includes a trailing CRLF.\r\n";

test("RFC 9292: the known-length request decodes and re-encodes to the same bytes", () => {
  const bytes = vectorBytes(`${DIR}/request-known-length.bhttp`);
  const request = decodeRequest(bytes);
  assert.deepEqual({ ...request, content: text(request.content) }, EXPECTED_REQUEST);
  assert.deepEqual(encodeRequest(request), bytes);
  // The last two bytes (empty content and trailers) can go without changing the meaning.
  for (const cut of [1, 2]) {
    const shorter = decodeRequest(bytes.subarray(0, bytes.length - cut));
    assert.deepEqual({ ...shorter, content: text(shorter.content) }, EXPECTED_REQUEST);
  }
  assert.deepEqual(encodeRequest(request, { truncate: true }), bytes.subarray(0, bytes.length - 2));
});

test("RFC 9292: the indeterminate-length request decodes, up to 12 bytes may go", () => {
  const bytes = vectorBytes(`${DIR}/request-indeterminate-length.bhttp`);
  for (let cut = 0; cut <= 12; cut++) {
    const request = decodeRequest(bytes.subarray(0, bytes.length - cut));
    assert.deepEqual({ ...request, content: text(request.content) }, EXPECTED_REQUEST);
  }
  // The 13th byte from the end terminates the header section, which cannot be truncated.
  assert.throws(
    () => decodeRequest(bytes.subarray(0, bytes.length - 13)),
    (e: unknown) => e instanceof BhttpError && e.code === "bhttp.truncated",
  );
});

test("RFC 9292: the indeterminate-length response with 102 and 103 decodes", () => {
  const response = decodeResponse(vectorBytes(`${DIR}/response-indeterminate-length.bhttp`));
  assert.equal(response.status, 200);
  assert.deepEqual(response.informational, INFORMATIONAL);
  assert.deepEqual(response.headers, FINAL_HEADERS);
  assert.equal(text(response.content), HELLO);
  assert.equal(response.content.length, 51);
  assert.deepEqual(response.trailers, []);
  // Re-encoded with known lengths, it decodes to the same message.
  assert.deepEqual(decodeResponse(encodeResponse(response)), response);
});

test("RFC 9292: the known-length response decodes and re-encodes to the same bytes", () => {
  const bytes = vectorBytes(`${DIR}/response-known-length.bhttp`);
  const response = decodeResponse(bytes);
  assert.equal(response.status, 200);
  assert.deepEqual(response.headers, []);
  assert.equal(text(response.content), "This content contains CRLF.\r\n");
  assert.deepEqual(response.trailers, [["trailer", "text"]]);
  assert.deepEqual(response.informational, []);
  assert.deepEqual(encodeResponse(response), bytes);
});

test("RFC 9292: the stream decoder takes the indeterminate response one byte at a time", () => {
  const bytes = vectorBytes(`${DIR}/response-indeterminate-length.bhttp`);
  const decoder = new ResponseStreamDecoder();
  const events: ResponseStreamEvent[] = [];
  for (let i = 0; i < bytes.length; i++) events.push(...decoder.push(bytes.subarray(i, i + 1)));
  events.push(...decoder.finish());
  const [head, ...rest] = events;
  assert.deepEqual(head, { type: "head", status: 200, headers: FINAL_HEADERS });
  const end = rest.pop();
  assert.deepEqual(end, { type: "end", trailers: [] });
  assert.ok(rest.every((e) => e.type === "content"));
  const content = rest.map((e) => (e.type === "content" ? text(e.data) : "")).join("");
  assert.equal(content, HELLO);
  // Content is passed on as it arrives: one event per byte here.
  assert.equal(rest.length, 51);
});

test("RFC 9292: the stream decoder reads known-length responses too", () => {
  const decoder = new ResponseStreamDecoder();
  const events = decoder.push(vectorBytes(`${DIR}/response-known-length.bhttp`));
  events.push(...decoder.finish());
  assert.deepEqual(
    events.map((e) => e.type),
    ["head", "content", "end"],
  );
  assert.deepEqual(events[2], { type: "end", trailers: [["trailer", "text"]] });
});

test("RFC 9292: a message of the other kind is refused at the framing indicator", () => {
  for (const [decode, file] of [
    [decodeRequest, "response-known-length.bhttp"],
    [decodeResponse, "request-known-length.bhttp"],
  ] as const) {
    assert.throws(
      () => decode(vectorBytes(`${DIR}/${file}`)),
      (e: unknown) =>
        e instanceof BhttpError &&
        e.code === "bhttp.malformed" &&
        e.field === "framing indicator" &&
        e.offset === 0,
    );
  }
});

test("RFC 9292: non-zero padding, bad names and misplaced pseudo-fields are malformed", () => {
  const known = vectorBytes(`${DIR}/request-known-length.bhttp`);
  const padded = new Uint8Array([...known, 0, 0, 1]);
  assert.throws(
    () => decodeRequest(padded),
    (e: unknown) =>
      e instanceof BhttpError && e.field === "padding" && e.offset === known.length + 2,
  );
  // The name "user-agent" starts at 0x1a, its line at 0x19; names must be lower case.
  const upper = known.slice();
  upper[0x1a] = "U".charCodeAt(0);
  assert.throws(
    () => decodeRequest(upper),
    (e: unknown) => e instanceof BhttpError && e.code === "bhttp.malformed" && e.offset === 0x19,
  );
  const pseudo = encodeRequest({ ...decodeRequest(known), headers: [] });
  const withPath = utf8(":path");
  // Splice one ":path: /" line into the empty header section.
  const at = pseudo.length - 3;
  const line = new Uint8Array([withPath.length, ...withPath, 1, 0x2f]);
  const spliced = new Uint8Array([...pseudo.subarray(0, at), line.length, ...line, 0, 0]);
  assert.throws(
    () => decodeRequest(spliced),
    (e: unknown) => e instanceof BhttpError && /control data/.test(e.message),
  );
});
