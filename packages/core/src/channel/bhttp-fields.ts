import type { ByteBuilder } from "./bhttp-builder.js";
import { BhttpError } from "./errors.js";

/** Field lines in order; names are lower case. */
export type Fields = readonly (readonly [string, string])[];

/** Where a field section sits, which decides whether pseudo-fields may appear. */
export type SectionKind = "header" | "trailer";

// RFC 9110 tchar. Field names take only its lower-case half: RFC 9292 validates names as
// HTTP/2 does (RFC 9113 section 8.2.1), where an upper-case name makes the message malformed.
const TOKEN = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz";
const TOKEN_BYTE = new Uint8Array(256);
const NAME_BYTE = new Uint8Array(256);
for (const c of TOKEN) {
  TOKEN_BYTE[c.charCodeAt(0)] = 1;
  TOKEN_BYTE[c.toUpperCase().charCodeAt(0)] = 1;
  NAME_BYTE[c.charCodeAt(0)] = 1;
}

// Control data is replayed as an HTTP/1.1 request line; a space or control byte would split it.
const CONTROL_FORBIDDEN = (b: number) => b <= 0x20 || b === 0x7f;

const RESERVED_PSEUDO = new Set([":method", ":scheme", ":authority", ":path", ":status"]);

/**
 * Field values and control data are byte strings. Mapping each byte to the code point of the
 * same number (as Fetch does for header values) is lossless both ways; UTF-8 would not be.
 */
export function latin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
  }
  return out;
}

function latin1Bytes(text: string, field: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) {
      throw new BhttpError("bhttp.invalid", field, `has a character above U+00FF at index ${i}`);
    }
    out[i] = code;
  }
  return out;
}

/** Throws unless `name` is a valid lower-case field name; `at` is its absolute offset. */
function checkName(name: Uint8Array, field: string, code: CheckCode, at?: number): void {
  if (name.length === 0) throw new BhttpError(code, field, "field name is empty", at);
  const start = name[0] === 0x3a ? 1 : 0;
  if (start === 1 && name.length === 1) {
    throw new BhttpError(code, field, "field name is a lone colon", at);
  }
  for (let i = start; i < name.length; i++) {
    if (NAME_BYTE[name[i] as number] !== 1) {
      throw new BhttpError(
        code,
        field,
        `field name has a byte at index ${i} that is not a lower-case token character`,
        at,
      );
    }
  }
}

/** RFC 9113 section 8.2.1: no NUL, CR or LF, and no leading or trailing space or tab. */
function checkValue(value: Uint8Array, field: string, code: CheckCode, at?: number): void {
  for (let i = 0; i < value.length; i++) {
    const b = value[i] as number;
    if (b === 0 || b === 0x0a || b === 0x0d) {
      throw new BhttpError(code, field, `field value has a NUL, CR or LF byte at index ${i}`, at);
    }
  }
  const edge = (b: number | undefined) => b === 0x20 || b === 0x09;
  if (edge(value[0]) || edge(value[value.length - 1])) {
    throw new BhttpError(code, field, "field value starts or ends with whitespace", at);
  }
}

type CheckCode = "bhttp.malformed" | "bhttp.invalid";

/** Tracks the pseudo-field rules across one section: only unreserved ones, first, in headers. */
export class PseudoFieldRule {
  private regularSeen = false;

  constructor(
    private readonly kind: SectionKind,
    private readonly code: CheckCode,
  ) {}

  check(name: Uint8Array, field: string, at?: number): void {
    if (name[0] !== 0x3a) {
      this.regularSeen = true;
      return;
    }
    const reason =
      this.kind === "trailer"
        ? "pseudo-fields are not allowed in trailers"
        : this.regularSeen
          ? "a pseudo-field follows a regular field"
          : RESERVED_PSEUDO.has(latin1(name))
            ? `${latin1(name)} is carried as control data, not as a field`
            : undefined;
    if (reason !== undefined) throw new BhttpError(this.code, field, reason, at);
  }
}

/** Validates a decoded field line. */
export function checkFieldLine(
  name: Uint8Array,
  value: Uint8Array,
  rule: PseudoFieldRule,
  field: string,
  at: number,
): void {
  checkName(name, field, "bhttp.malformed", at);
  checkValue(value, field, "bhttp.malformed", at);
  rule.check(name, field, at);
}

/** Appends the field lines of `fields` (names lower-cased), refusing what a decoder would reject. */
export function buildFieldLines(out: ByteBuilder, fields: Fields, kind: SectionKind): void {
  const rule = new PseudoFieldRule(kind, "bhttp.invalid");
  const field = kind === "header" ? "header field" : "trailer field";
  for (const [rawName, rawValue] of fields) {
    const name = latin1Bytes(rawName.toLowerCase(), field);
    const value = latin1Bytes(rawValue, field);
    checkName(name, field, "bhttp.invalid");
    checkValue(value, field, "bhttp.invalid");
    rule.check(name, field);
    out.prefixed(name).prefixed(value);
  }
}

/** Checks and encodes one element of request control data; the method must be a token. */
export function controlBytes(text: string, field: string, token: boolean): Uint8Array {
  const bytes = latin1Bytes(text, field);
  checkControl(bytes, field, token, "bhttp.invalid");
  return bytes;
}

export function checkControl(
  bytes: Uint8Array,
  field: string,
  token: boolean,
  code: CheckCode,
  at?: number,
): void {
  if (token && bytes.length === 0) throw new BhttpError(code, field, "is empty", at);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (token ? TOKEN_BYTE[b] !== 1 : CONTROL_FORBIDDEN(b)) {
      const kind = token ? "a byte that is not a token character" : "a space or control byte";
      throw new BhttpError(code, field, `has ${kind} at index ${i}`, at);
    }
  }
}
