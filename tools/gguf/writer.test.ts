import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_ALIGNMENT, encodeGguf, float16Bits, type GgufModel } from "./writer.js";

/** Reads back what the writer produced, independently of it, following the GGUF v3 layout. */
function readGguf(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const u32 = () => {
    const v = view.getUint32(at, true);
    at += 4;
    return v;
  };
  const u64 = () => {
    const v = Number(view.getBigUint64(at, true));
    at += 8;
    return v;
  };
  const str = () => {
    const n = u64();
    const s = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(at, at + n));
    at += n;
    return s;
  };
  const scalar = (type: number): unknown => {
    const readers: Record<number, () => unknown> = {
      0: () => view.getUint8(at),
      1: () => view.getInt8(at),
      2: () => view.getUint16(at, true),
      3: () => view.getInt16(at, true),
      4: () => view.getUint32(at, true),
      5: () => view.getInt32(at, true),
      6: () => view.getFloat32(at, true),
      7: () => view.getUint8(at) === 1,
      10: () => view.getBigUint64(at, true),
      11: () => view.getBigInt64(at, true),
      12: () => view.getFloat64(at, true),
    };
    const widths: Record<number, number> = {
      0: 1,
      1: 1,
      2: 2,
      3: 2,
      4: 4,
      5: 4,
      6: 4,
      7: 1,
      10: 8,
      11: 8,
      12: 8,
    };
    if (type === 8) return str();
    const read = readers[type];
    const width = widths[type];
    if (read === undefined || width === undefined) throw new Error(`unknown type ${type} at ${at}`);
    const value = read();
    at += width;
    return value;
  };

  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  at = 4;
  const version = u32();
  const tensorCount = u64();
  const kvCount = u64();
  const metadata = new Map<string, { type: number; value: unknown }>();
  for (let i = 0; i < kvCount; i++) {
    const key = str();
    const type = u32();
    if (type === 9) {
      const itemType = u32();
      const n = u64();
      const items: unknown[] = [];
      for (let j = 0; j < n; j++) items.push(scalar(itemType));
      metadata.set(key, { type: itemType + 100, value: items });
    } else {
      metadata.set(key, { type, value: scalar(type) });
    }
  }
  const tensors: { name: string; dims: number[]; type: number; offset: number }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = str();
    const nDims = u32();
    const dims = Array.from({ length: nDims }, u64);
    tensors.push({ name, dims, type: u32(), offset: u64() });
  }
  return { magic, version, tensorCount, kvCount, metadata, tensors, infoEnd: at };
}

const sample: GgufModel = {
  metadata: {
    "general.architecture": { type: "string", value: "llama" },
    "test.u8": { type: "u8", value: 255 },
    "test.i8": { type: "i8", value: -128 },
    "test.u16": { type: "u16", value: 65535 },
    "test.i16": { type: "i16", value: -32768 },
    "test.u32": { type: "u32", value: 4294967295 },
    "test.i32": { type: "i32", value: -2147483648 },
    "test.u64": { type: "u64", value: 2n ** 64n - 1n },
    "test.i64": { type: "i64", value: -(2n ** 63n) },
    "test.f32": { type: "f32", value: 0.5 },
    "test.f64": { type: "f64", value: Math.PI },
    "test.bool": { type: "bool", value: true },
    "test.string": { type: "string", value: "Ishmael — ‘whale’" },
    "test.strings": { type: "array", itemType: "string", value: ["a", "", "<0x0A>"] },
    "test.i32s": { type: "array", itemType: "i32", value: [1, -2, 3] },
    "test.f32s": { type: "array", itemType: "f32", value: [0.25, -1] },
    "test.bools": { type: "array", itemType: "bool", value: [false, true] },
    "test.u64s": { type: "array", itemType: "u64", value: [0, 7n] },
    "test.empty": { type: "array", itemType: "string", value: [] },
  },
  tensors: [
    { name: "a", dims: [3], type: "f32", data: new Float32Array([1, 2, 3]) },
    {
      name: "b",
      dims: [2, 3],
      type: "f32",
      data: Float32Array.from({ length: 6 }, (_, i) => i / 4),
    },
    { name: "c", dims: [5], type: "f16", data: new Float32Array([1, -2, 0.5, 65504, 0]) },
  ],
};

describe("GGUF writer", () => {
  it("writes the v3 header, every metadata type and the tensor infos", () => {
    const bytes = encodeGguf(sample);
    const file = readGguf(bytes);
    assert.equal(file.magic, "GGUF");
    assert.equal(file.version, 3);
    assert.equal(file.tensorCount, 3);
    assert.equal(file.kvCount, Object.keys(sample.metadata).length);
    assert.deepEqual([...file.metadata.keys()], Object.keys(sample.metadata));

    const value = (key: string) => file.metadata.get(key)?.value;
    const type = (key: string) => file.metadata.get(key)?.type;
    assert.equal(value("general.architecture"), "llama");
    assert.deepEqual(
      ["u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "u64", "i64", "f64"].map(
        (t) => type(`test.${t}`),
      ),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12],
    );
    assert.equal(value("test.u8"), 255);
    assert.equal(value("test.i8"), -128);
    assert.equal(value("test.u16"), 65535);
    assert.equal(value("test.i16"), -32768);
    assert.equal(value("test.u32"), 4294967295);
    assert.equal(value("test.i32"), -2147483648);
    assert.equal(value("test.u64"), 2n ** 64n - 1n);
    assert.equal(value("test.i64"), -(2n ** 63n));
    assert.equal(value("test.f32"), 0.5);
    assert.equal(value("test.f64"), Math.PI);
    assert.equal(value("test.bool"), true);
    assert.equal(value("test.string"), "Ishmael — ‘whale’");
    assert.deepEqual(value("test.strings"), ["a", "", "<0x0A>"]);
    assert.equal(type("test.strings"), 108);
    assert.deepEqual(value("test.i32s"), [1, -2, 3]);
    assert.deepEqual(value("test.f32s"), [0.25, -1]);
    assert.deepEqual(value("test.bools"), [false, true]);
    assert.deepEqual(value("test.u64s"), [0n, 7n]);
    assert.deepEqual(value("test.empty"), []);

    assert.deepEqual(
      file.tensors.map(({ name, dims, type }) => ({ name, dims, type })),
      [
        { name: "a", dims: [3], type: 0 },
        { name: "b", dims: [2, 3], type: 0 },
        { name: "c", dims: [5], type: 1 },
      ],
    );
  });

  it("aligns the data section and every tensor, and stores the values", () => {
    const bytes = encodeGguf(sample);
    const file = readGguf(bytes);
    const dataStart = Math.ceil(file.infoEnd / DEFAULT_ALIGNMENT) * DEFAULT_ALIGNMENT;
    assert.deepEqual(
      file.tensors.map((t) => t.offset),
      [0, 32, 64],
    );
    assert.ok(bytes.subarray(file.infoEnd, dataStart).every((b) => b === 0));
    assert.equal(bytes.length % DEFAULT_ALIGNMENT, 0);
    assert.equal(bytes.length, dataStart + 96);

    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const f32s = (offset: number, n: number) =>
      Array.from({ length: n }, (_, i) => view.getFloat32(dataStart + offset + 4 * i, true));
    assert.deepEqual(f32s(0, 3), [1, 2, 3]);
    assert.deepEqual(f32s(32, 6), [0, 0.25, 0.5, 0.75, 1, 1.25]);
    const f16s = Array.from({ length: 5 }, (_, i) => view.getUint16(dataStart + 64 + 2 * i, true));
    assert.deepEqual(f16s, [0x3c00, 0xc000, 0x3800, 0x7bff, 0]);
  });

  it("honours general.alignment", () => {
    const bytes = encodeGguf({
      metadata: { "general.alignment": { type: "u32", value: 64 } },
      tensors: [
        { name: "x", dims: [1], type: "f32", data: new Float32Array([7]) },
        { name: "y", dims: [1], type: "f32", data: new Float32Array([8]) },
      ],
    });
    const file = readGguf(bytes);
    assert.deepEqual(
      file.tensors.map((t) => t.offset),
      [0, 64],
    );
    const dataStart = Math.ceil(file.infoEnd / 64) * 64;
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    assert.equal(view.getFloat32(dataStart + 64, true), 8);
    assert.equal(bytes.length, dataStart + 128);
  });

  it("refuses what the format cannot hold", () => {
    const tensor = { name: "t", dims: [2], type: "f32", data: new Float32Array(2) } as const;
    const encode =
      (metadata: GgufModel["metadata"], tensors: GgufModel["tensors"] = []) =>
      () =>
        encodeGguf({ metadata, tensors });
    assert.throws(encode({ k: { type: "u8", value: 256 } }), RangeError);
    assert.throws(encode({ k: { type: "i32", value: 1.5 } }), RangeError);
    assert.throws(encode({ k: { type: "u64", value: -1n } }), RangeError);
    assert.throws(encode({ "general.alignment": { type: "u32", value: 24 } }), RangeError);
    assert.throws(encode({ "general.alignment": { type: "u64", value: 32 } }), TypeError);
    assert.throws(encode({}, [{ ...tensor, dims: [3] }]), RangeError);
    assert.throws(encode({}, [tensor, tensor]), TypeError);
  });

  it("rounds to binary16 like IEEE 754 round-to-nearest-even", () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65520, 0x7c00],
      [1e9, 0x7c00],
      [Number.NEGATIVE_INFINITY, 0xfc00],
      [2 ** -14, 0x0400],
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000],
      [2 ** -25 * 1.5, 0x0001],
      [1 + 2 ** -11, 0x3c00],
      [1 + 3 * 2 ** -11, 0x3c02],
      [0.1, 0x2e66],
      [-0, 0x8000],
    ];
    for (const [value, bits] of cases) assert.equal(float16Bits(value), bits, `${value}`);
    assert.equal(float16Bits(Number.NaN) & 0x7c00, 0x7c00);
    assert.notEqual(float16Bits(Number.NaN) & 0x3ff, 0);
  });
});
