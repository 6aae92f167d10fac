import {
  checkControl,
  checkFieldLine,
  type Fields,
  latin1,
  PseudoFieldRule,
  type SectionKind,
} from "./bhttp-fields.js";
import { BhttpError } from "./errors.js";
import { readVarint, varintSize } from "./varint.js";

export interface RequestControl {
  readonly method: string;
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
}

export type ParserEvent =
  | { readonly type: "request"; readonly control: RequestControl; readonly headers: Fields }
  | { readonly type: "informational"; readonly status: number; readonly headers: Fields }
  | { readonly type: "response"; readonly status: number; readonly headers: Fields }
  | { readonly type: "content"; readonly data: Uint8Array }
  | { readonly type: "end"; readonly trailers: Fields };

type State = "framing" | "control" | "fields" | "content" | "padding";
type Section = SectionKind | "informational";

/** step() result when the input ends inside the next unit. */
const STALLED = -1;

const CONTROL_FIELDS = ["method", "scheme", "authority", "path"] as const;

/**
 * An incremental RFC 9292 decoder for one message, in either framing. parse() consumes the
 * whole units its input holds and reports them as events; content is passed on as soon as
 * it arrives, as views of the input. end() applies the truncation rules.
 */
export class MessageParser {
  /** How many unconsumed bytes parse() needs before it can make progress. */
  need = 1;
  private state: State = "framing";
  private knownLength = false;
  private section: Section = "header";
  private lines: [string, string][] = [];
  private rule = new PseudoFieldRule("header", "bhttp.malformed");
  private control: RequestControl | undefined;
  private status = 0;
  /** Content bytes left in the known-length content or in the current chunk. */
  private remaining = 0;
  /** Whether content framing was read, after which the message may no longer end. */
  private contentStarted = false;
  /** Absolute offset of buf[0] in the message, for error messages. */
  private base = 0;

  constructor(private readonly kind: "request" | "response") {}

  /** Consumes the whole units in `buf`, appends their events, returns the bytes consumed. */
  parse(buf: Uint8Array, events: ParserEvent[]): number {
    let pos = 0;
    for (let next = this.step(buf, 0, events); next !== STALLED; ) {
      pos = next;
      next = this.step(buf, pos, events);
    }
    this.base += pos;
    return pos;
  }

  /** The input ended with `leftover` bytes unconsumed: complete a truncated message or throw. */
  end(leftover: number, events: ParserEvent[]): void {
    const atBoundary =
      leftover === 0 &&
      (this.state === "padding" ||
        (this.state === "fields" && this.section !== "informational" && this.lines.length === 0) ||
        (this.state === "content" && !this.contentStarted));
    if (!atBoundary) {
      throw new BhttpError(
        "bhttp.truncated",
        this.describe(),
        "message ends before this part is complete",
        this.base,
      );
    }
    // RFC 9292 section 3.8: absent trailing parts read as empty ones.
    if (this.state === "fields" && this.section === "header") this.completeSection(events);
    if (this.state === "content") this.startSection("trailer");
    if (this.state === "fields") this.completeSection(events);
  }

  private step(buf: Uint8Array, pos: number, events: ParserEvent[]): number {
    if (pos >= buf.length) return this.stall(1);
    switch (this.state) {
      case "framing":
        return this.framing(buf, pos);
      case "control":
        return this.kind === "request" ? this.requestControl(buf, pos) : this.statusCode(buf, pos);
      case "fields":
        return this.knownLength
          ? this.knownFields(buf, pos, events)
          : this.fieldLine(buf, pos, events);
      case "content":
        return this.content(buf, pos, events);
      case "padding":
        return this.padding(buf, pos);
    }
  }

  private framing(buf: Uint8Array, pos: number): number {
    const value = readVarint(buf, pos);
    if (value === undefined) return this.stallVarint(buf, pos, pos);
    const expected = this.kind === "request" ? [0, 2] : [1, 3];
    if (!expected.includes(value)) {
      throw new BhttpError(
        "bhttp.malformed",
        "framing indicator",
        `is ${value}; a ${this.kind} uses ${expected[0]} (known length) or ${expected[1]} (indeterminate length)`,
        this.base + pos,
      );
    }
    this.knownLength = value < 2;
    this.state = "control";
    return pos + varintSize(buf[pos] as number);
  }

  private requestControl(buf: Uint8Array, pos: number): number {
    const parts: string[] = [];
    let p = pos;
    for (const field of CONTROL_FIELDS) {
      const length = readVarint(buf, p);
      if (length === undefined) return this.stallVarint(buf, pos, p);
      const start = p + varintSize(buf[p] as number);
      if (start + length > buf.length) return this.stall(start + length - pos);
      const bytes = buf.subarray(start, start + length);
      checkControl(bytes, field, field === "method", "bhttp.malformed", this.base + start);
      parts.push(latin1(bytes));
      p = start + length;
    }
    const [method, scheme, authority, path] = parts as [string, string, string, string];
    this.control = { method, scheme, authority, path };
    this.startSection("header");
    return p;
  }

  private statusCode(buf: Uint8Array, pos: number): number {
    const status = readVarint(buf, pos);
    if (status === undefined) return this.stallVarint(buf, pos, pos);
    if (status < 100 || status > 599) {
      throw new BhttpError(
        "bhttp.malformed",
        "status code",
        `is ${status}, outside 100 to 599`,
        this.base + pos,
      );
    }
    this.status = status;
    this.startSection(status < 200 ? "informational" : "header");
    return pos + varintSize(buf[pos] as number);
  }

  /** A known-length field section, parsed once all of it is buffered. */
  private knownFields(buf: Uint8Array, pos: number, events: ParserEvent[]): number {
    const length = readVarint(buf, pos);
    if (length === undefined) return this.stallVarint(buf, pos, pos);
    const start = pos + varintSize(buf[pos] as number);
    const end = start + length;
    if (end > buf.length) return this.stall(end - pos);
    for (let p = start; p < end; ) {
      const next = this.readLine(buf, p, end);
      if (next === STALLED) {
        throw new BhttpError(
          "bhttp.malformed",
          this.describe(),
          "a field line overruns the section length",
          this.base + p,
        );
      }
      p = next;
    }
    this.completeSection(events);
    return end;
  }

  /** One line of an indeterminate-length field section, or its terminating zero. */
  private fieldLine(buf: Uint8Array, pos: number, events: ParserEvent[]): number {
    if (buf[pos] === 0) {
      this.completeSection(events);
      return pos + 1;
    }
    return this.readLine(buf, pos, buf.length);
  }

  /** Reads the field line at `pos` that must end by `limit`; STALLED (with need) if it does not. */
  private readLine(buf: Uint8Array, pos: number, limit: number): number {
    const view = limit === buf.length ? buf : buf.subarray(0, limit);
    const nameLength = readVarint(view, pos);
    if (nameLength === undefined) return this.stallVarint(view, pos, pos);
    const nameStart = pos + varintSize(view[pos] as number);
    const valueLengthAt = nameStart + nameLength;
    const valueLength = readVarint(view, valueLengthAt);
    if (valueLength === undefined) {
      return valueLengthAt >= view.length
        ? this.stall(valueLengthAt + 1 - pos)
        : this.stallVarint(view, pos, valueLengthAt);
    }
    const valueStart = valueLengthAt + varintSize(view[valueLengthAt] as number);
    const end = valueStart + valueLength;
    if (end > view.length) return this.stall(end - pos);
    const name = view.subarray(nameStart, valueLengthAt);
    const value = view.subarray(valueStart, end);
    checkFieldLine(name, value, this.rule, this.describe(), this.base + pos);
    this.lines.push([latin1(name), latin1(value)]);
    return end;
  }

  private content(buf: Uint8Array, pos: number, events: ParserEvent[]): number {
    if (this.remaining > 0) {
      const count = Math.min(this.remaining, buf.length - pos);
      events.push({ type: "content", data: buf.subarray(pos, pos + count) });
      this.remaining -= count;
      if (this.remaining === 0 && this.knownLength) this.startSection("trailer");
      return pos + count;
    }
    const length = readVarint(buf, pos);
    if (length === undefined) return this.stallVarint(buf, pos, pos);
    this.contentStarted = true;
    this.remaining = length;
    // A zero ends known-length content at once, and is the terminator of chunked content.
    if (length === 0) this.startSection("trailer");
    return pos + varintSize(buf[pos] as number);
  }

  private padding(buf: Uint8Array, pos: number): number {
    const nonZero = buf.subarray(pos).findIndex((b) => b !== 0);
    if (nonZero !== -1) {
      throw new BhttpError(
        "bhttp.malformed",
        "padding",
        "has a non-zero byte after the end of the message",
        this.base + pos + nonZero,
      );
    }
    return buf.length;
  }

  private startSection(section: Section): void {
    this.state = "fields";
    this.section = section;
    this.lines = [];
    this.rule = new PseudoFieldRule(
      section === "trailer" ? "trailer" : "header",
      "bhttp.malformed",
    );
  }

  private completeSection(events: ParserEvent[]): void {
    const fields = this.lines;
    switch (this.section) {
      case "informational":
        events.push({ type: "informational", status: this.status, headers: fields });
        this.state = "control";
        return;
      case "header":
        events.push(
          this.kind === "request"
            ? { type: "request", control: this.control as RequestControl, headers: fields }
            : { type: "response", status: this.status, headers: fields },
        );
        this.state = "content";
        this.remaining = 0;
        this.contentStarted = false;
        return;
      case "trailer":
        events.push({ type: "end", trailers: fields });
        this.state = "padding";
        return;
    }
  }

  private describe(): string {
    switch (this.state) {
      case "framing":
        return "framing indicator";
      case "control":
        return this.kind === "request" ? "request control data" : "status code";
      case "fields":
        return this.section === "trailer"
          ? "trailer section"
          : this.section === "informational"
            ? "informational header section"
            : "header section";
      case "content":
        return "content";
      case "padding":
        return "padding";
    }
  }

  private stall(need: number): number {
    this.need = need;
    return STALLED;
  }

  /** Stalls on the varint at `at`, needing its whole encoding counted from `from`. */
  private stallVarint(buf: Uint8Array, from: number, at: number): number {
    return this.stall(at - from + (at < buf.length ? varintSize(buf[at] as number) : 1));
  }
}
