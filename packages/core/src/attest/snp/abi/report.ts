import { ParseError } from "../../../errors.js";
import {
  decodeGuestPolicy,
  decodeKeyInfo,
  decodePlatformInfo,
  POLICY_RESERVED_ONE_BIT,
} from "./fields.js";
import { productOf } from "./product.js";
import { decodeTcb, tcbLayoutOf } from "./tcb.js";
import type { Cpuid, FirmwareVersion, SnpReport } from "./types.js";

/** ATTESTATION_REPORT is always 1184 bytes, whatever its version. */
export const REPORT_SIZE = 0x4a0;
/** The signature covers bytes [0, 0x2A0); it starts right after them. */
export const SIGNED_LENGTH = 0x2a0;

/**
 * Versions whose layout this parser knows. 2 predates CPUID; 3 adds CPUID (family, model,
 * stepping); 4 is laid out exactly like 3 (virtee/sev treats them as one variant); 5 adds the
 * launch and current mitigation vectors. A newer version may move fields, so it is refused
 * rather than read with an older layout.
 */
const KNOWN_VERSIONS: ReadonlySet<number> = new Set([2, 3, 4, 5]);

/** ECDSA P-384 with SHA-384: the only SIGNATURE_ALGO the firmware defines. */
const ECDSA_P384_SHA384 = 1;

/** Each signature component is stored as 72 little-endian bytes, of which P-384 uses 48. */
const COMPONENT_FIELD = 72;
const COMPONENT_SIZE = 48;

const CODE = {
  length: "snp.report.length",
  version: "snp.report.version",
  algorithm: "snp.report.signature_algo",
  vmpl: "snp.report.vmpl",
  policy: "snp.report.policy",
  keyInfo: "snp.report.key_info",
  signature: "snp.report.signature_encoding",
} as const;

/**
 * Bytes -> SnpReport. Total: every input either parses or throws a ParseError naming the
 * field and its offset. It checks shape only (lengths, enumerations, the bits the firmware
 * always sets); authenticity is the signature check's job, trust the appraisal's.
 *
 * Reserved regions are not required to be zero, because firmware revisions have repurposed
 * them; the signature padding is, because a non-zero high half would mean the value is not a
 * P-384 scalar at all.
 */
export function parseReport(input: Uint8Array): SnpReport {
  if (input.length !== REPORT_SIZE) {
    throw new ParseError(
      CODE.length,
      "report",
      `must be exactly ${REPORT_SIZE} bytes, got ${input.length}`,
      Math.min(input.length, REPORT_SIZE),
    );
  }
  // One private copy: later mutation of the caller's buffer cannot change what was parsed,
  // and every view handed out below agrees with `bytes`.
  const bytes = new Uint8Array(input); // not slice(): on a Node Buffer that is a shared view
  const view = new DataView(bytes.buffer);
  const u32 = (offset: number) => view.getUint32(offset, true);
  const u64 = (offset: number) => view.getBigUint64(offset, true);
  const copy = (offset: number, length: number) => bytes.slice(offset, offset + length);

  const version = u32(0x00);
  if (!KNOWN_VERSIONS.has(version)) {
    throw new ParseError(CODE.version, "version", `must be 2, 3, 4 or 5, got ${version}`, 0x00);
  }
  const vmpl = u32(0x30);
  if (vmpl > 3) {
    throw new ParseError(CODE.vmpl, "vmpl", `must be 0 to 3, got ${vmpl}`, 0x30);
  }
  const signatureAlgorithm = u32(0x34);
  if (signatureAlgorithm !== ECDSA_P384_SHA384) {
    throw new ParseError(
      CODE.algorithm,
      "signature_algo",
      `must be 1 (ECDSA P-384 with SHA-384), got ${signatureAlgorithm}`,
      0x34,
    );
  }
  const policy = decodeGuestPolicy(u64(0x08));
  if (((policy.raw >> BigInt(POLICY_RESERVED_ONE_BIT)) & 1n) !== 1n) {
    throw new ParseError(
      CODE.policy,
      "policy",
      `reserved bit ${POLICY_RESERVED_ONE_BIT} must be set, as the firmware always sets it`,
      0x08,
    );
  }
  const keyInfo = decodeKeyInfo(u32(0x48));
  if (keyInfo === undefined) {
    throw new ParseError(
      CODE.keyInfo,
      "key_info",
      `SIGNING_KEY (bits 4:2) must be 0 (VCEK), 1 (VLEK) or 7 (none), got ${(u32(0x48) >>> 2) & 7}`,
      0x48,
    );
  }
  const signature = {
    r: signatureComponent(bytes, SIGNED_LENGTH, "signature.r"),
    s: signatureComponent(bytes, SIGNED_LENGTH + COMPONENT_FIELD, "signature.s"),
  };

  const cpuid: Cpuid | undefined =
    version >= 3
      ? {
          family: bytes[0x188] as number,
          model: bytes[0x189] as number,
          stepping: bytes[0x18a] as number,
        }
      : undefined;
  const product = cpuid === undefined ? undefined : productOf(cpuid);
  const tcbLayout = tcbLayoutOf(cpuid);
  const firmware = (offset: number): FirmwareVersion => ({
    build: bytes[offset] as number,
    minor: bytes[offset + 1] as number,
    major: bytes[offset + 2] as number,
  });

  return {
    version,
    guestSvn: u32(0x04),
    policy,
    familyId: copy(0x10, 16),
    imageId: copy(0x20, 16),
    vmpl,
    signatureAlgorithm,
    tcbLayout,
    currentTcb: decodeTcb(u64(0x38), tcbLayout),
    platformInfo: decodePlatformInfo(u64(0x40)),
    keyInfo,
    reportData: copy(0x50, 64),
    measurement: copy(0x90, 48),
    hostData: copy(0xc0, 32),
    idKeyDigest: copy(0xe0, 48),
    authorKeyDigest: copy(0x110, 48),
    reportId: copy(0x140, 32),
    reportIdMa: copy(0x160, 32),
    reportedTcb: decodeTcb(u64(0x180), tcbLayout),
    ...(cpuid === undefined ? {} : { cpuid }),
    ...(product === undefined ? {} : { product }),
    chipId: copy(0x1a0, 64),
    committedTcb: decodeTcb(u64(0x1e0), tcbLayout),
    currentVersion: firmware(0x1e8),
    committedVersion: firmware(0x1ec),
    launchTcb: decodeTcb(u64(0x1f0), tcbLayout),
    ...(version >= 5
      ? { launchMitigationVector: u64(0x1f8), currentMitigationVector: u64(0x200) }
      : {}),
    signature,
    signedBytes: bytes.subarray(0, SIGNED_LENGTH),
    bytes,
  };
}

/** Little-endian, zero-padded 72-byte field -> 48-byte big-endian scalar (what WebCrypto wants). */
function signatureComponent(bytes: Uint8Array, offset: number, field: string): Uint8Array {
  for (let i = offset + COMPONENT_SIZE; i < offset + COMPONENT_FIELD; i++) {
    if (bytes[i] !== 0) {
      throw new ParseError(
        CODE.signature,
        field,
        `bytes ${COMPONENT_SIZE} to ${COMPONENT_FIELD - 1} of the little-endian value must be zero for P-384`,
        i,
      );
    }
  }
  return bytes.slice(offset, offset + COMPONENT_SIZE).reverse();
}
