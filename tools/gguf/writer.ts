/**
 * A small GGUF v3 writer for dev-time tooling: the test models and the Moby-Dick demo model.
 * It holds the whole file in memory, which suits models of a few megabytes; it is not meant
 * for converting real checkpoints. Layout as llama.cpp's gguf.cpp reads it:
 *
 *   header:  "GGUF", u32 version, u64 tensor count, u64 key/value count
 *   kv:      gguf string key, u32 value type, value (arrays: u32 item type, u64 count, items)
 *   tensors: gguf string name, u32 n_dims, u64 dims[n_dims], u32 ggml type, u64 offset
 *   padding to `general.alignment`, then each tensor's data, each padded to the alignment
 *
 * All integers are little-endian; a gguf string is a u64 byte length and UTF-8 bytes.
 */

import { writeFile } from "node:fs/promises";

export const GGUF_MAGIC = "GGUF";
export const GGUF_VERSION = 3;
export const DEFAULT_ALIGNMENT = 32;

/** GGUF metadata value types, with the numbers the format gives them. */
export const GgufValueType = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;

export type GgufScalarType = Exclude<keyof typeof GgufValueType, "array">;
type NumberType = Exclude<GgufScalarType, "bool" | "string" | "u64" | "i64">;
type BigType = "u64" | "i64";

export type GgufScalar =
  | { readonly type: NumberType; readonly value: number }
  | { readonly type: BigType; readonly value: number | bigint }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "string"; readonly value: string };

export type GgufArray =
  | { readonly type: "array"; readonly itemType: NumberType; readonly value: readonly number[] }
  | {
      readonly type: "array";
      readonly itemType: BigType;
      readonly value: readonly (number | bigint)[];
    }
  | { readonly type: "array"; readonly itemType: "bool"; readonly value: readonly boolean[] }
  | { readonly type: "array"; readonly itemType: "string"; readonly value: readonly string[] };

export type GgufValue = GgufScalar | GgufArray;

/** ggml tensor types this writer can store. */
export const GgmlType = { f32: 0, f16: 1 } as const;

export interface GgufTensor {
  readonly name: string;
  /**
   * ggml order: dims[0] is the contiguous (fastest-varying) dimension. A row-major matrix with
   * `rows` rows of `cols` values, such as a PyTorch Linear weight [out, in], has dims [cols, rows].
   */
  readonly dims: readonly number[];
  readonly type: keyof typeof GgmlType;
  /** Values in row-major order of the reversed dims, i.e. dims[0] varies fastest. */
  readonly data: Float32Array;
}

export interface GgufModel {
  /** Written in insertion order. `general.alignment` (u32), when present, sets the alignment. */
  readonly metadata: Readonly<Record<string, GgufValue>>;
  readonly tensors: readonly GgufTensor[];
}

const INTEGER_RANGES: Record<Exclude<NumberType, "f32" | "f64">, readonly [number, number]> = {
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
};

const BIG_RANGES: Record<BigType, readonly [bigint, bigint]> = {
  u64: [0n, 2n ** 64n - 1n],
  i64: [-(2n ** 63n), 2n ** 63n - 1n],
};

/** Encodes a whole GGUF file. Throws RangeError/TypeError on values the format cannot hold. */
export function encodeGguf(model: GgufModel): Uint8Array {
  const alignment = resolveAlignment(model.metadata);
  const out = new ByteSink();

  out.bytes(new TextEncoder().encode(GGUF_MAGIC));
  out.u32(GGUF_VERSION);
  out.u64(BigInt(model.tensors.length));
  out.u64(BigInt(Object.keys(model.metadata).length));

  for (const [key, value] of Object.entries(model.metadata)) {
    out.string(key);
    out.u32(GgufValueType[value.type]);
    if (value.type === "array") {
      out.u32(GgufValueType[value.itemType]);
      out.u64(BigInt(value.value.length));
      for (const item of value.value) writeScalar(out, value.itemType, item, key);
    } else {
      writeScalar(out, value.type, value.value, key);
    }
  }

  const names = new Set<string>();
  let offset = 0;
  const placed = model.tensors.map((tensor) => {
    if (names.has(tensor.name)) throw new TypeError(`Tensor "${tensor.name}" appears twice.`);
    names.add(tensor.name);
    const bytes = tensorBytes(tensor);
    const at = offset;
    offset = alignUp(offset + bytes.length, alignment);
    return { tensor, bytes, at };
  });

  for (const { tensor, at } of placed) {
    out.string(tensor.name);
    out.u32(tensor.dims.length);
    for (const dim of tensor.dims) out.u64(BigInt(dim));
    out.u32(GgmlType[tensor.type]);
    out.u64(BigInt(at));
  }

  out.zeros(alignUp(out.length, alignment) - out.length);
  const dataStart = out.length;
  for (const { bytes, at } of placed) {
    out.zeros(dataStart + at - out.length);
    out.bytes(bytes);
  }
  out.zeros(dataStart + offset - out.length);
  return out.finish();
}

export async function writeGguf(path: string, model: GgufModel): Promise<void> {
  await writeFile(path, encodeGguf(model));
}

/** IEEE 754 binary16 bits of `value`, rounded to nearest even, as ggml's F16 stores it. */
export function float16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;

  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);
  // Unbiased exponent; binary16 normals cover -14..15.
  const e = exponent - 127;
  if (e > 15) return sign | 0x7c00;
  if (e >= -14) {
    const half = ((e + 15) << 10) | (mantissa >>> 13);
    // A carry out of the mantissa correctly rounds up into the exponent (and to infinity).
    return sign | (half + roundBit(mantissa, 13));
  }
  if (e < -25) return sign;
  // Subnormal: shift the mantissa with its implicit leading one into place.
  const full = mantissa | 0x800000;
  const shift = -e - 1;
  return sign | ((full >>> shift) + roundBit(full, shift));
}

/** 1 when the bits dropped by a right shift of `shift` round the kept part up (to even). */
function roundBit(value: number, shift: number): number {
  const dropped = value & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (dropped > halfway) return 1;
  if (dropped < halfway) return 0;
  return (value >>> shift) & 1;
}

function tensorBytes(tensor: GgufTensor): Uint8Array {
  if (tensor.dims.length < 1 || tensor.dims.length > 4) {
    throw new RangeError(
      `Tensor "${tensor.name}" has ${tensor.dims.length} dims; ggml allows 1 to 4.`,
    );
  }
  for (const dim of tensor.dims) {
    if (!Number.isSafeInteger(dim) || dim < 1) {
      throw new RangeError(`Tensor "${tensor.name}" has an invalid dimension ${dim}.`);
    }
  }
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  if (count !== tensor.data.length) {
    throw new RangeError(
      `Tensor "${tensor.name}" has ${tensor.data.length} values but dims [${tensor.dims.join(", ")}] need ${count}.`,
    );
  }
  if (tensor.type === "f32") {
    const copy = new Float32Array(tensor.data);
    return littleEndian(new Uint8Array(copy.buffer), 4);
  }
  const halves = new Uint16Array(count);
  for (let i = 0; i < count; i++) halves[i] = float16Bits(tensor.data[i] as number);
  return littleEndian(new Uint8Array(halves.buffer), 2);
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndian(bytes: Uint8Array, width: number): Uint8Array {
  if (!HOST_IS_LITTLE_ENDIAN) {
    for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
  }
  return bytes;
}

function resolveAlignment(metadata: GgufModel["metadata"]): number {
  const entry = metadata["general.alignment"];
  if (entry === undefined) return DEFAULT_ALIGNMENT;
  if (entry.type !== "u32") throw new TypeError("general.alignment must be a u32.");
  const alignment = entry.value;
  if (!Number.isInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0) {
    throw new RangeError(`general.alignment must be a power of two, not ${alignment}.`);
  }
  return alignment;
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

function writeScalar(
  out: ByteSink,
  type: GgufScalarType,
  value: number | bigint | boolean | string,
  key: string,
): void {
  const fail = (): never => {
    throw new RangeError(`Metadata "${key}": ${String(value)} is not a valid ${type}.`);
  };
  switch (type) {
    case "string":
      if (typeof value !== "string") fail();
      out.string(value as string);
      return;
    case "bool":
      if (typeof value !== "boolean") fail();
      out.u8(value ? 1 : 0);
      return;
    case "f32":
    case "f64":
      if (typeof value !== "number") fail();
      if (type === "f32") out.f32(value as number);
      else out.f64(value as number);
      return;
    case "u64":
    case "i64": {
      if (typeof value !== "bigint" && (typeof value !== "number" || !Number.isSafeInteger(value)))
        fail();
      const big = BigInt(value as number | bigint);
      const [min, max] = BIG_RANGES[type];
      if (big < min || big > max) fail();
      if (type === "u64") out.u64(big);
      else out.i64(big);
      return;
    }
    default: {
      const [min, max] = INTEGER_RANGES[type];
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
        fail();
      out.integer(type, value as number);
    }
  }
}

/** A growable little-endian byte buffer. */
class ByteSink {
  #buffer = new Uint8Array(1024);
  #view = new DataView(this.#buffer.buffer);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  finish(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }

  bytes(bytes: Uint8Array): void {
    this.#reserve(bytes.length).set(bytes, this.#length - bytes.length);
  }

  zeros(count: number): void {
    this.#reserve(count);
  }

  string(value: string): void {
    const bytes = new TextEncoder().encode(value);
    this.u64(BigInt(bytes.length));
    this.bytes(bytes);
  }

  u8(value: number): void {
    this.integer("u8", value);
  }

  u32(value: number): void {
    this.integer("u32", value);
  }

  u64(value: bigint): void {
    this.#reserve(8);
    this.#view.setBigUint64(this.#length - 8, value, true);
  }

  i64(value: bigint): void {
    this.#reserve(8);
    this.#view.setBigInt64(this.#length - 8, value, true);
  }

  f32(value: number): void {
    this.#reserve(4);
    this.#view.setFloat32(this.#length - 4, value, true);
  }

  f64(value: number): void {
    this.#reserve(8);
    this.#view.setFloat64(this.#length - 8, value, true);
  }

  integer(type: keyof typeof INTEGER_RANGES, value: number): void {
    const width = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4 }[type];
    this.#reserve(width);
    const at = this.#length - width;
    if (type === "u8") this.#view.setUint8(at, value);
    else if (type === "i8") this.#view.setInt8(at, value);
    else if (type === "u16") this.#view.setUint16(at, value, true);
    else if (type === "i16") this.#view.setInt16(at, value, true);
    else if (type === "u32") this.#view.setUint32(at, value, true);
    else this.#view.setInt32(at, value, true);
  }

  /** Extends the length by `count` zero bytes, growing the buffer, and returns the buffer. */
  #reserve(count: number): Uint8Array {
    const needed = this.#length + count;
    if (needed > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(needed, this.#buffer.length * 2));
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
      this.#view = new DataView(grown.buffer);
    }
    this.#length = needed;
    return this.#buffer;
  }
}
