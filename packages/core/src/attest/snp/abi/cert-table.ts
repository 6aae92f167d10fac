import { CloisterError, ParseError } from "../../../errors.js";

/**
 * The certificate table of an extended report (GHCB specification, SNP_GUEST_REQUEST with
 * certificates; the `auxblob` of a configfs-tsm report): 24-byte entries
 * { GUID[16], offset u32 LE, length u32 LE } closed by an all-zero entry, followed by the
 * certificates. Offsets count from the start of the table.
 *
 * GUIDs are stored in the byte order they are written (RFC 4122 order, as libuuid's
 * uuid_parse and AMD's own tooling produce them), not in the mixed-endian Microsoft GUID
 * layout. The GHCB specification defines no GUID for the ASVK: a VLEK chain's intermediate
 * arrives, if at all, under a GUID this module reports as "other".
 */
export type CertKind = "vcek" | "vlek" | "ask" | "ark" | "crl" | "other";

export interface CertTableEntry {
  /** Lower-case canonical text, e.g. "63da758d-e664-4564-adc5-f4b93be8accd". */
  readonly guid: string;
  readonly kind: CertKind;
  /** A copy of the certificate bytes (DER for the key certificates). */
  readonly data: Uint8Array;
}

/** What encodeCertTable takes: a known kind, or any GUID for vendor entries. */
export type CertTableInput =
  | { readonly kind: Exclude<CertKind, "other">; readonly data: Uint8Array }
  | { readonly guid: string; readonly data: Uint8Array };

export const CERT_GUIDS: Readonly<Record<Exclude<CertKind, "other">, string>> = {
  vcek: "63da758d-e664-4564-adc5-f4b93be8accd",
  vlek: "a8074bc2-a25a-483e-aae6-39c045a0b8a1",
  ask: "4ab7b379-bbac-4fe4-a02f-05aef327c782",
  ark: "c0b406a4-a803-4952-9743-3fb6014cd0ae",
  crl: "92f81bc3-5811-4d3d-97ff-d19f88dc67ea",
};

const KIND_OF_GUID: ReadonlyMap<string, CertKind> = new Map(
  Object.entries(CERT_GUIDS).map(([kind, guid]) => [guid, kind as CertKind]),
);

const ENTRY_SIZE = 24;
const FIELD = "cert_table";
const GUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function guidText(bytes: Uint8Array): string {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function guidBytes(text: string): Uint8Array | undefined {
  const lower = text.toLowerCase();
  if (!GUID_TEXT.test(lower)) return undefined;
  const hex = lower.replaceAll("-", "");
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Bytes -> entries, in table order. Total: any input parses or throws a ParseError naming the
 * entry and the offset of the bad field. Refused: a table with no terminator, a zero-GUID entry
 * that is not all zero, an entry of length zero, one whose data overlaps the table or runs past
 * the buffer, and a second entry of the same known kind (which one would be meant?). Bytes
 * after the last certificate are ignored: the kernel hands out a page-sized buffer.
 */
export function parseCertTable(bytes: Uint8Array): CertTableEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const raw: { guid: string; offset: number; length: number; at: number }[] = [];
  let at = 0;
  for (;;) {
    if (at + ENTRY_SIZE > bytes.length) {
      throw new ParseError(
        "snp.cert_table.terminator",
        FIELD,
        "ends before the all-zero entry that must close the table",
        bytes.length,
      );
    }
    const guid = bytes.subarray(at, at + 16);
    const offset = view.getUint32(at + 16, true);
    const length = view.getUint32(at + 20, true);
    if (guid.every((b) => b === 0)) {
      if (offset !== 0 || length !== 0) {
        throw new ParseError(
          "snp.cert_table.terminator",
          `${FIELD}[${raw.length}]`,
          "has a zero GUID but a non-zero offset or length",
          at + 16,
        );
      }
      break;
    }
    raw.push({ guid: guidText(guid), offset, length, at });
    at += ENTRY_SIZE;
  }
  const tableEnd = at + ENTRY_SIZE;

  const seen = new Set<CertKind>();
  return raw.map((entry, index) => {
    const field = `${FIELD}[${index}]`;
    if (entry.length === 0) {
      throw new ParseError("snp.cert_table.length", field, "has length zero", entry.at + 20);
    }
    if (entry.offset < tableEnd) {
      throw new ParseError(
        "snp.cert_table.bounds",
        field,
        `data at ${entry.offset} overlaps the table, which ends at ${tableEnd}`,
        entry.at + 16,
      );
    }
    if (entry.offset + entry.length > bytes.length) {
      throw new ParseError(
        "snp.cert_table.bounds",
        field,
        `data [${entry.offset}, ${entry.offset + entry.length}) runs past the ${bytes.length}-byte buffer`,
        entry.at + 16,
      );
    }
    const kind = KIND_OF_GUID.get(entry.guid) ?? "other";
    if (kind !== "other") {
      if (seen.has(kind)) {
        throw new ParseError(
          "snp.cert_table.duplicate",
          field,
          `is a second ${kind.toUpperCase()} entry`,
          entry.at,
        );
      }
      seen.add(kind);
    }
    return {
      guid: entry.guid,
      kind,
      data: bytes.slice(entry.offset, entry.offset + entry.length),
    };
  });
}

/**
 * Entries -> table bytes: the entries, the terminator, then each certificate in order. Refuses
 * what parseCertTable would refuse, so its output always parses back to the same entries.
 */
export function encodeCertTable(entries: readonly CertTableInput[]): Uint8Array {
  const guids = entries.map((entry, index) => {
    const text = "kind" in entry ? CERT_GUIDS[entry.kind] : entry.guid;
    const guid = text === undefined ? undefined : guidBytes(text);
    if (guid === undefined || guid.every((b) => b === 0)) {
      throw new CloisterError(
        "snp.cert_table.encode",
        `Entry ${index} has no valid non-zero GUID.`,
      );
    }
    if (entry.data.length === 0) {
      throw new CloisterError("snp.cert_table.encode", `Entry ${index} has no data.`);
    }
    return guid;
  });
  const kinds = guids.map((guid) => KIND_OF_GUID.get(guidText(guid)) ?? "other");
  const duplicate = kinds.find((kind, i) => kind !== "other" && kinds.indexOf(kind) !== i);
  if (duplicate !== undefined) {
    throw new CloisterError(
      "snp.cert_table.encode",
      `The table may hold only one ${duplicate.toUpperCase()} entry.`,
    );
  }

  const tableEnd = (entries.length + 1) * ENTRY_SIZE;
  const total = entries.reduce((sum, entry) => sum + entry.data.length, tableEnd);
  if (total > 0xffffffff) {
    throw new CloisterError("snp.cert_table.encode", "The table would exceed 4 GiB.");
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = tableEnd;
  entries.forEach((entry, index) => {
    const at = index * ENTRY_SIZE;
    out.set(guids[index] as Uint8Array, at);
    view.setUint32(at + 16, offset, true);
    view.setUint32(at + 20, entry.data.length, true);
    out.set(entry.data, offset);
    offset += entry.data.length;
  });
  return out;
}
