import { concat } from "../bytes.js";
import { ByteBuilder } from "./bhttp-builder.js";
import { buildFieldLines, controlBytes, type Fields } from "./bhttp-fields.js";
import { MessageParser, type ParserEvent } from "./bhttp-parser.js";
import { BhttpError } from "./errors.js";

export type { Fields } from "./bhttp-fields.js";

/** A Binary HTTP request (RFC 9292). Field names are lower case. */
export interface RequestMessage {
  readonly method: string;
  readonly scheme: string;
  /** Empty when the request has none; a Host header is not copied here. */
  readonly authority: string;
  readonly path: string;
  readonly headers: Fields;
  readonly content: Uint8Array;
  readonly trailers: Fields;
}

export interface InformationalResponse {
  readonly status: number;
  readonly headers: Fields;
}

/** A Binary HTTP response (RFC 9292), with any informational (1xx) responses before it. */
export interface ResponseMessage {
  readonly status: number;
  readonly headers: Fields;
  readonly content: Uint8Array;
  readonly trailers: Fields;
  readonly informational: readonly InformationalResponse[];
}

export interface EncodeOptions {
  /**
   * Leave out empty trailing parts (trailers, then content, then headers), as RFC 9292
   * section 3.8 allows. Off by default, which matches the RFC's own examples.
   */
  readonly truncate?: boolean;
}

/** Encodes with known-length framing. Field names are lower-cased; invalid fields throw. */
export function encodeRequest(message: RequestMessage, options: EncodeOptions = {}): Uint8Array {
  const out = new ByteBuilder().varint(0);
  out.prefixed(controlBytes(message.method, "method", true));
  out.prefixed(controlBytes(message.scheme, "scheme", false));
  out.prefixed(controlBytes(message.authority, "authority", false));
  out.prefixed(controlBytes(message.path, "path", false));
  knownLengthTail(out, message, options);
  return out.finish();
}

/** Encodes with known-length framing, informational responses first. */
export function encodeResponse(
  message: Omit<ResponseMessage, "informational"> & {
    readonly informational?: readonly InformationalResponse[];
  },
  options: EncodeOptions = {},
): Uint8Array {
  const out = new ByteBuilder().varint(1);
  for (const interim of message.informational ?? []) {
    out.varint(checkStatus(interim.status, 100, 199, "informational status"));
    out.append(knownLengthSection(interim.headers, "header"));
  }
  out.varint(checkStatus(message.status, 200, 599, "status"));
  knownLengthTail(out, message, options);
  return out.finish();
}

/**
 * Decodes either framing, with truncation and zero padding as RFC 9292 allows. The content
 * may be a view of `bytes`.
 */
export function decodeRequest(bytes: Uint8Array): RequestMessage {
  const events = decodeAll("request", bytes);
  const head = events[0] as Extract<ParserEvent, { type: "request" }>;
  return { ...head.control, headers: head.headers, ...contentAndTrailers(events) };
}

/**
 * Decodes either framing, with truncation and zero padding as RFC 9292 allows. The content
 * may be a view of `bytes`.
 */
export function decodeResponse(bytes: Uint8Array): ResponseMessage {
  const events = decodeAll("response", bytes);
  const informational: InformationalResponse[] = [];
  let status = 0;
  let headers: Fields = [];
  for (const event of events) {
    if (event.type === "informational") {
      informational.push({ status: event.status, headers: event.headers });
    } else if (event.type === "response") {
      status = event.status;
      headers = event.headers;
    }
  }
  return { status, headers, ...contentAndTrailers(events), informational };
}

function decodeAll(kind: "request" | "response", bytes: Uint8Array): ParserEvent[] {
  const parser = new MessageParser(kind);
  const events: ParserEvent[] = [];
  const consumed = parser.parse(bytes, events);
  parser.end(bytes.length - consumed, events);
  return events;
}

/** Content is a view of the decoded bytes when it came in one piece, a copy otherwise. */
function contentAndTrailers(events: readonly ParserEvent[]): {
  content: Uint8Array;
  trailers: Fields;
} {
  const pieces: Uint8Array[] = [];
  let trailers: Fields = [];
  for (const event of events) {
    if (event.type === "content") pieces.push(event.data);
    else if (event.type === "end") trailers = event.trailers;
  }
  return { content: concat(pieces), trailers };
}

function knownLengthTail(
  out: ByteBuilder,
  message: { headers: Fields; content: Uint8Array; trailers: Fields },
  options: EncodeOptions,
): void {
  const headers = knownLengthSection(message.headers, "header");
  const trailers = knownLengthSection(message.trailers, "trailer");
  const keepTrailers = !options.truncate || trailers.size > 1;
  const keepContent = keepTrailers || message.content.length > 0;
  if (keepContent || headers.size > 1) out.append(headers);
  if (keepContent) out.prefixed(message.content);
  if (keepTrailers) out.append(trailers);
}

function knownLengthSection(fields: Fields, kind: "header" | "trailer"): ByteBuilder {
  const lines = new ByteBuilder();
  buildFieldLines(lines, fields, kind);
  return new ByteBuilder().varint(lines.size).append(lines);
}

export function checkStatus(status: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(status) || status < min || status > max) {
    throw new BhttpError("bhttp.invalid", field, `must be an integer from ${min} to ${max}`);
  }
  return status;
}
