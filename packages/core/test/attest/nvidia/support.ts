import { readFileSync } from "node:fs";
import { TESTVECTORS, vectorEntry } from "../../support/testvectors.js";

/** The corpus was collected on 2026-04-20; every NVIDIA certificate is valid then (to 9999). */
export const NOW = new Date("2026-04-20T00:00:00Z");

export function vectorText(id: string, role: string): string {
  const path = vectorEntry(id).files[role];
  if (path === undefined) throw new Error(`${id} has no file ${role}`);
  return readFileSync(`${TESTVECTORS}${path}`, "utf8");
}

export const SAMPLE = "nvidia/nvtrust-h100-sample";
export const CHAIN_CASES = "nvidia/trustee-cert-chain-cases";
export const COCO = "nvidia/trustee-coco-h100";
export const PPCIE = "nvidia/nvtrust-ppcie-hgx";

export interface BlockSpec {
  readonly index: number;
  readonly specification?: number;
  readonly valueType?: number;
  readonly value: Uint8Array;
  /** Overrides DMTFSpecMeasurementValueSize. */
  readonly valueSize?: number;
}

export interface EvidenceSpec {
  readonly attributes?: number;
  readonly blocks?: readonly BlockSpec[];
  /** Overrides NumberOfBlocks. */
  readonly count?: number;
  readonly opaque?: readonly (readonly [number, Uint8Array])[];
  readonly trailing?: Uint8Array;
}

const le = (value: number, length: number) =>
  Uint8Array.from({ length }, (_, i) => Math.floor(value / 256 ** i) % 256);

/** A synthetic GET_MEASUREMENTS request ‖ response (unsigned: 96 zero bytes), for parser tests. */
export function buildEvidence(spec: EvidenceSpec = {}): Uint8Array {
  const blocks = spec.blocks ?? [{ index: 1, value: new Uint8Array(48).fill(7) }];
  const record = blocks.flatMap((b) => {
    const dmtf = [b.valueType ?? 1, ...le(b.valueSize ?? b.value.length, 2), ...b.value];
    return [b.index, b.specification ?? 1, ...le(dmtf.length, 2), ...dmtf];
  });
  const opaque = (spec.opaque ?? [[3, new TextEncoder().encode("550.90.07\0")]]).flatMap(
    ([type, value]) => [...le(type, 2), ...le(value.length, 2), ...value],
  );
  return Uint8Array.from([
    0x11,
    0xe0,
    spec.attributes ?? 1,
    0xff,
    ...new Uint8Array(32).fill(0xaa),
    0,
    0x11,
    0x60,
    0,
    0,
    spec.count ?? blocks.length,
    ...le(record.length, 3),
    ...record,
    ...new Uint8Array(32).fill(0xbb),
    ...le(opaque.length, 2),
    ...opaque,
    ...new Uint8Array(96).fill(0x5a),
    ...(spec.trailing ?? []),
  ]);
}
