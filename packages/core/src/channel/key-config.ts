import { ParseError } from "../errors.js";
import type { Suite } from "./constants.js";
import { OhttpError } from "./errors.js";
import { hex16, KEM_SIZES } from "./suites.js";

/** An OHTTP key configuration (RFC 9458 section 3.1). */
export interface KeyConfig {
  readonly keyId: number;
  readonly kemId: number;
  readonly publicKey: Uint8Array;
  readonly suites: readonly Suite[];
}

export function encodeKeyConfig(config: KeyConfig): Uint8Array {
  checkUint(config.keyId, 0xff, "keyId");
  checkUint(config.kemId, 0xffff, "kemId");
  const sizes = KEM_SIZES.get(config.kemId);
  if (sizes !== undefined && config.publicKey.length !== sizes.publicKey) {
    throw new OhttpError(
      "ohttp.invalid_argument",
      `publicKey must be ${sizes.publicKey} bytes for KEM 0x${hex16(config.kemId)}, got ${config.publicKey.length}.`,
    );
  }
  if (config.suites.length === 0 || config.suites.length > 0x3fff) {
    throw new OhttpError("ohttp.invalid_argument", "suites must list 1 to 16383 pairs.");
  }
  const pk = config.publicKey.length;
  const out = new Uint8Array(5 + pk + 4 * config.suites.length);
  const view = new DataView(out.buffer);
  out[0] = config.keyId;
  view.setUint16(1, config.kemId);
  out.set(config.publicKey, 3);
  view.setUint16(3 + pk, 4 * config.suites.length);
  config.suites.forEach((suite, i) => {
    checkUint(suite.kdfId, 0xffff, "suite kdfId");
    checkUint(suite.aeadId, 0xffff, "suite aeadId");
    view.setUint16(5 + pk + 4 * i, suite.kdfId);
    view.setUint16(7 + pk + 4 * i, suite.aeadId);
  });
  return out;
}

/** Decodes exactly one key configuration; throws a ParseError naming the field and offset. */
export function decodeKeyConfig(bytes: Uint8Array): KeyConfig {
  const config = parseAt(bytes, 0, bytes.length);
  if (config === undefined) {
    throw new ParseError(
      "ohttp.unsupported_suite",
      "key config.kemId",
      `KEM 0x${hex16(readUint16(bytes, 1))} is not supported`,
      1,
    );
  }
  return config;
}

/** application/ohttp-keys: each configuration with a 2-byte length prefix (RFC 9458 section 3.2). */
export function encodeKeyConfigList(configs: readonly KeyConfig[]): Uint8Array {
  const encoded = configs.map((config) => {
    const bytes = encodeKeyConfig(config);
    if (bytes.length > 0xffff) {
      throw new OhttpError("ohttp.invalid_argument", "A key configuration exceeds 65535 bytes.");
    }
    return bytes;
  });
  const out = new Uint8Array(encoded.reduce((n, c) => n + 2 + c.length, 0));
  let pos = 0;
  for (const config of encoded) {
    out[pos] = config.length >> 8;
    out[pos + 1] = config.length & 0xff;
    out.set(config, pos + 2);
    pos += 2 + config.length;
  }
  return out;
}

/**
 * Decodes application/ohttp-keys. Configurations with a KEM this module cannot run are
 * skipped, as the length prefixes intend; anything malformed throws.
 */
export function decodeKeyConfigList(bytes: Uint8Array): KeyConfig[] {
  const configs: KeyConfig[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (pos + 2 > bytes.length) {
      throw malformed("key config list.length", "ends inside a length prefix", pos);
    }
    const length = readUint16(bytes, pos);
    const end = pos + 2 + length;
    if (end > bytes.length) {
      throw malformed(
        "key config list.length",
        `announces ${length} bytes but only ${bytes.length - pos - 2} remain`,
        pos,
      );
    }
    const config = parseAt(bytes, pos + 2, end);
    if (config !== undefined) configs.push(config);
    pos = end;
  }
  return configs;
}

/** Parses the configuration filling bytes[start, end); undefined when its KEM is unknown. */
function parseAt(bytes: Uint8Array, start: number, end: number): KeyConfig | undefined {
  if (end - start < 3) throw malformed("key config", "is shorter than its 3-byte header", start);
  const keyId = bytes[start] as number;
  const kemId = readUint16(bytes, start + 1);
  const sizes = KEM_SIZES.get(kemId);
  if (sizes === undefined) return undefined;
  let pos = start + 3;
  if (pos + sizes.publicKey + 2 > end) {
    throw malformed("key config.publicKey", `needs ${sizes.publicKey} bytes and a suite list`, pos);
  }
  const publicKey = bytes.slice(pos, pos + sizes.publicKey);
  pos += sizes.publicKey;
  const suitesLength = readUint16(bytes, pos);
  if (suitesLength === 0 || suitesLength % 4 !== 0) {
    throw malformed(
      "key config.suites",
      `length ${suitesLength} is not a positive multiple of 4`,
      pos,
    );
  }
  pos += 2;
  if (pos + suitesLength !== end) {
    throw malformed(
      "key config.suites",
      `length ${suitesLength} does not match the ${end - pos} bytes that follow`,
      pos - 2,
    );
  }
  const suites: Suite[] = [];
  for (; pos < end; pos += 4) {
    suites.push({ kdfId: readUint16(bytes, pos), aeadId: readUint16(bytes, pos + 2) });
  }
  return { keyId, kemId, publicKey, suites };
}

function readUint16(bytes: Uint8Array, pos: number): number {
  return ((bytes[pos] as number) << 8) | (bytes[pos + 1] as number);
}

function malformed(field: string, message: string, offset: number): ParseError {
  return new ParseError("ohttp.malformed", field, message, offset);
}

function checkUint(value: number, max: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new OhttpError("ohttp.invalid_argument", `${name} must be an integer from 0 to ${max}.`);
  }
}
