import { ParseError } from "../../errors.js";

/**
 * The ACPI CCEL table (Confidential Computing Event Log, ACPI 6.5 §5.2.34): where the firmware
 * left the TCG event log that explains RTMR0..2. A guest reads it from
 * /sys/firmware/acpi/tables/CCEL and the log area itself from /sys/firmware/acpi/tables/data/CCEL.
 * Nothing in it is signed: the checksum catches corruption, and only the RTMR replay against a
 * verified quote makes the log worth believing.
 */
export interface CcelTable {
  readonly revision: number;
  readonly checksum: number;
  readonly oemId: string;
  readonly oemTableId: string;
  readonly oemRevision: number;
  readonly creatorId: string;
  readonly creatorRevision: number;
  /** EFI_CC_TYPE: 1 = AMD SEV, 2 = Intel TDX. */
  readonly ccType: number;
  readonly ccSubtype: number;
  /** LAML: the size of the log area, fill included. */
  readonly logAreaMinimumLength: number;
  /** LASA: the guest-physical address of the log area. */
  readonly logAreaStartAddress: bigint;
}

/** The 36-byte ACPI header plus CC type, subtype, reserved, LAML and LASA. */
export const CCEL_TABLE_SIZE = 56;

export const CC_TYPE_TDX = 2;

const CODE = {
  length: "tdx.ccel.table_length",
  signature: "tdx.ccel.signature",
  checksum: "tdx.ccel.checksum",
  logArea: "tdx.ccel.log_area_length",
} as const;

const latin1 = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

/**
 * Bytes -> CcelTable. Total: anything that is not exactly one well-formed CCEL table throws a
 * ParseError naming the field and offset. The file a guest reads is exactly the table, so the
 * declared length must equal the input length; a longer table (a later revision) is refused
 * rather than half-read.
 */
export function parseCcelTable(input: Uint8Array): CcelTable {
  if (input.length < CCEL_TABLE_SIZE) {
    throw new ParseError(
      CODE.length,
      "table",
      `must be ${CCEL_TABLE_SIZE} bytes, got ${input.length}`,
      input.length,
    );
  }
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  if (latin1(input.subarray(0, 4)) !== "CCEL") {
    throw new ParseError(CODE.signature, "signature", 'must be "CCEL"', 0);
  }
  const length = view.getUint32(4, true);
  if (length !== CCEL_TABLE_SIZE || length !== input.length) {
    throw new ParseError(
      CODE.length,
      "length",
      `declares ${length} bytes; a CCEL table is ${CCEL_TABLE_SIZE} and the input has ${input.length}`,
      4,
    );
  }
  let sum = 0;
  for (const b of input) sum = (sum + b) & 0xff;
  if (sum !== 0) {
    throw new ParseError(CODE.checksum, "checksum", `the table bytes sum to ${sum}, not 0`, 9);
  }
  const laml = view.getBigUint64(40, true);
  if (laml > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ParseError(CODE.logArea, "logAreaMinimumLength", `${laml} is not a usable size`, 40);
  }
  return {
    revision: input[8] as number,
    checksum: input[9] as number,
    oemId: latin1(input.subarray(10, 16)),
    oemTableId: latin1(input.subarray(16, 24)),
    oemRevision: view.getUint32(24, true),
    creatorId: latin1(input.subarray(28, 32)),
    creatorRevision: view.getUint32(32, true),
    ccType: input[36] as number,
    ccSubtype: input[37] as number,
    logAreaMinimumLength: Number(laml),
    logAreaStartAddress: view.getBigUint64(48, true),
  };
}
