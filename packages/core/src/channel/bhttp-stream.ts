import { checkStatus } from "./bhttp.js";
import { ByteBuilder } from "./bhttp-builder.js";
import { buildFieldLines, type Fields } from "./bhttp-fields.js";
import { MessageParser, type ParserEvent } from "./bhttp-parser.js";
import { BhttpError } from "./errors.js";
import { PendingBytes } from "./pending-bytes.js";

/**
 * Writes an indeterminate-length response (RFC 9292 framing 3) piece by piece, so a token
 * stream can be sealed chunk by chunk: head(), any number of content(), then end().
 */
export class ResponseStreamEncoder {
  private stage: "head" | "content" | "done" = "head";

  head(status: number, headers: Fields): Uint8Array {
    this.advance("head", "content");
    const out = new ByteBuilder().varint(3).varint(checkStatus(status, 200, 599, "status"));
    buildFieldLines(out, headers, "header");
    return out.varint(0).finish();
  }

  /** One content chunk; an empty one encodes to nothing, as a zero length would end the content. */
  content(chunk: Uint8Array): Uint8Array {
    this.expect("content");
    if (chunk.length === 0) return new Uint8Array(0);
    return new ByteBuilder().prefixed(chunk).finish();
  }

  end(trailers: Fields = []): Uint8Array {
    this.advance("content", "done");
    const out = new ByteBuilder().varint(0);
    buildFieldLines(out, trailers, "trailer");
    return out.varint(0).finish();
  }

  private advance(from: "head" | "content", to: "content" | "done"): void {
    this.expect(from);
    this.stage = to;
  }

  private expect(stage: "head" | "content"): void {
    if (this.stage !== stage) {
      const order = "head() once, then content() any number of times, then end() once";
      throw new BhttpError("bhttp.invalid", "response stream", `call ${order}`);
    }
  }
}

export type ResponseStreamEvent =
  | { readonly type: "head"; readonly status: number; readonly headers: Fields }
  | { readonly type: "content"; readonly data: Uint8Array }
  | { readonly type: "end"; readonly trailers: Fields };

/**
 * Decodes a response incrementally: push() takes bytes split anywhere and returns what they
 * complete; content comes out as soon as it arrives (as views of the pushed bytes, which
 * must not be reused). Either framing is accepted; informational (1xx) responses are
 * checked and dropped, as fetch() does. After an error every call throws it again.
 */
export class ResponseStreamDecoder {
  private readonly parser = new MessageParser("response");
  private readonly pending = new PendingBytes();
  private failure: unknown;

  push(bytes: Uint8Array): ResponseStreamEvent[] {
    this.pending.push(bytes);
    if (this.failure === undefined && this.pending.size < this.parser.need) return [];
    return this.run((events) => {
      const buf = this.pending.take(this.pending.size);
      const consumed = this.parser.parse(buf, events);
      this.pending.push(buf.subarray(consumed));
    });
  }

  /**
   * The input is over. Returns the events a truncated message implies (its empty headers,
   * content or trailers); throws if the message ends where RFC 9292 does not allow it.
   */
  finish(): ResponseStreamEvent[] {
    return this.run((events) => this.parser.end(this.pending.size, events));
  }

  private run(action: (events: ParserEvent[]) => void): ResponseStreamEvent[] {
    if (this.failure !== undefined) throw this.failure;
    const events: ParserEvent[] = [];
    try {
      action(events);
    } catch (error) {
      this.failure = error;
      throw error;
    }
    const out: ResponseStreamEvent[] = [];
    for (const event of events) {
      if (event.type === "response") {
        out.push({ type: "head", status: event.status, headers: event.headers });
      } else if (event.type === "content" || event.type === "end") {
        out.push(event);
      }
    }
    return out;
  }
}
