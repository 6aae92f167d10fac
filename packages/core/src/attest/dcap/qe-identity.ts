import { equalBytes, toHex } from "../../bytes.js";
import { pass } from "../checks.js";
import type { Check } from "../types.js";
import { VerificationError } from "../verifier.js";
import type { SignedJson } from "./collateral.js";
import { collateralValidity, type IsvTcbLevel, JsonObject, parseIsvTcbLevels } from "./tcb-info.js";
import { type Assessed, advisories } from "./tcb-level.js";

/**
 * Intel's QE identity (PCS "Enclave Identity" v2): which enclave may act as the Quoting Enclave
 * (its signer, product ID, MISCSELECT and ATTRIBUTES under masks) and how Intel rates each of
 * its ISVSVNs. The quote is only as good as the QE that signed it, so a QE Intel does not
 * recognise is refused, and an out-of-date one lowers the platform's status.
 */

/** "QE" signs SGX quotes, "TD_QE" TDX quotes; "QVE" is the verification enclave's identity. */
export type QeIdentityId = "QE" | "TD_QE" | "QVE";

export interface QeIdentity {
  readonly id: QeIdentityId;
  readonly version: 2;
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  readonly tcbEvaluationDataNumber: number;
  /** MISCSELECT and its mask as the little-endian 32-bit value the report holds. */
  readonly miscSelect: number;
  readonly miscSelectMask: number;
  /** 16 bytes each. */
  readonly attributes: Uint8Array;
  readonly attributesMask: Uint8Array;
  /** 32 bytes. */
  readonly mrSigner: Uint8Array;
  readonly isvProdId: number;
  /** Newest first, as Intel lists them. */
  readonly tcbLevels: readonly IsvTcbLevel[];
}

/** The QE report fields the identity constrains (from the quote's QE report body). */
export interface QeReportIdentity {
  readonly mrSigner: Uint8Array;
  readonly isvProdId: number;
  readonly miscSelect: number;
  /** 16 bytes: flags then XFRM, as in the report. */
  readonly attributes: Uint8Array;
  readonly isvSvn: number;
}

export interface QeEvaluation extends Assessed {
  readonly tcbDate: string;
  /** Pass checks; every failure throws a VerificationError. */
  readonly checks: readonly Check[];
}

const MALFORMED = "dcap.qe_identity.malformed";
const IDS: readonly string[] = ["QE", "TD_QE", "QVE"];

/** Reads a QE identity from its signed bytes; ParseError "dcap.qe_identity.malformed". */
export function parseQeIdentity(signed: SignedJson): QeIdentity {
  const root = JsonObject.parse(signed.signedBytes, MALFORMED, "enclaveIdentity");
  const id = root.string("id");
  if (!IDS.includes(id)) root.fail("id", `is ${JSON.stringify(id)}, not QE, TD_QE or QVE`);
  const version = root.integer("version", 0xffff);
  if (version !== 2) root.fail("version", `is ${version}; enclave identity version 2 is supported`);
  return {
    id: id as QeIdentityId,
    version: 2,
    issueDate: root.date("issueDate"),
    nextUpdate: root.date("nextUpdate"),
    tcbEvaluationDataNumber: root.integer("tcbEvaluationDataNumber", 0xffffffff),
    miscSelect: littleEndian(root.hex("miscselect", 4)),
    miscSelectMask: littleEndian(root.hex("miscselectMask", 4)),
    attributes: root.hex("attributes", 16),
    attributesMask: root.hex("attributesMask", 16),
    mrSigner: root.hex("mrsigner", 32),
    isvProdId: root.integer("isvprodid", 0xffff),
    tcbLevels: parseIsvTcbLevels(root),
  };
}

/** issueDate ≤ now ≤ nextUpdate. */
export function qeIdentityValidity(identity: QeIdentity, now: Date): Check {
  return collateralValidity(
    "qe_identity",
    "QE identity",
    identity.issueDate,
    identity.nextUpdate,
    now,
  );
}

/**
 * Checks the QE report against the identity (Intel QVL EnclaveReportVerifier.cpp, 4.1.2.9.5-10,
 * and QuoteVerifier.cpp 4.1.2.4.14 for the identity's TEE) and rates the QE: the first level
 * whose ISVSVN the QE reaches. A mismatch throws "dcap.qe_identity.mismatch" naming the field;
 * an ISVSVN below every level throws "dcap.qe_identity.no_match"; a Revoked QE is refused.
 */
export function evaluateQeIdentity(
  identity: QeIdentity,
  qeReport: QeReportIdentity,
  tee: "sgx" | "tdx",
): QeEvaluation {
  const expectedId = tee === "tdx" ? "TD_QE" : "QE";
  if (identity.id !== expectedId) {
    throw new VerificationError(
      "dcap.qe_identity.tee",
      `The QE identity is Intel's ${identity.id} identity, but ${tee === "tdx" ? "a TDX" : "an SGX"} quote is signed by the ${expectedId}: supply the ${expectedId} identity.`,
    );
  }
  if (!equalBytes(qeReport.mrSigner, identity.mrSigner)) {
    mismatch("MRSIGNER", toHex(qeReport.mrSigner), toHex(identity.mrSigner));
  }
  if (qeReport.isvProdId !== identity.isvProdId) {
    mismatch("ISVPRODID", String(qeReport.isvProdId), String(identity.isvProdId));
  }
  const miscMask = identity.miscSelectMask;
  if ((qeReport.miscSelect & miscMask) >>> 0 !== (identity.miscSelect & miscMask) >>> 0) {
    mismatch(
      "MISCSELECT",
      hex32(qeReport.miscSelect),
      `${hex32(identity.miscSelect)} under mask ${hex32(miscMask)}`,
    );
  }
  const mask = identity.attributesMask;
  const attributesDiffer =
    qeReport.attributes.length !== 16 ||
    qeReport.attributes.some(
      (b, i) =>
        (b & (mask[i] as number)) !== ((identity.attributes[i] as number) & (mask[i] as number)),
    );
  if (attributesDiffer) {
    mismatch(
      "ATTRIBUTES",
      toHex(qeReport.attributes),
      `${toHex(identity.attributes)} under mask ${toHex(mask)}`,
    );
  }
  const level = identity.tcbLevels.find((l) => l.isvSvn <= qeReport.isvSvn);
  if (level === undefined) {
    throw new VerificationError(
      "dcap.qe_identity.no_match",
      `The QE's ISVSVN ${qeReport.isvSvn} is below every TCB level of Intel's ${identity.id} identity: Intel does not rate this QE.`,
    );
  }
  if (level.status === "Revoked") {
    throw new VerificationError(
      "dcap.qe_identity.revoked",
      `Intel rates the ${identity.id} at ISVSVN ${qeReport.isvSvn} Revoked${advisories(level.advisoryIds)}: quotes it signed cannot be trusted.`,
    );
  }
  return {
    status: level.status,
    advisoryIds: level.advisoryIds,
    tcbDate: level.tcbDate,
    checks: [
      pass(
        "dcap.qe_identity.match",
        `The QE report matches Intel's ${identity.id} identity (MRSIGNER ${toHex(identity.mrSigner).slice(0, 16)}…, ISVPRODID ${identity.isvProdId}, MISCSELECT and ATTRIBUTES under their masks).`,
      ),
      pass(
        "dcap.qe_identity.tcb",
        `The QE (ISVSVN ${qeReport.isvSvn}) is at its level of ${level.tcbDate}: ${level.status}${advisories(level.advisoryIds)}.`,
      ),
    ],
  };
}

function mismatch(field: string, actual: string, expected: string): never {
  throw new VerificationError(
    "dcap.qe_identity.mismatch",
    `The QE report's ${field} ${actual} does not match Intel's QE identity (${expected}): the quote was not signed by Intel's Quoting Enclave.`,
  );
}

/** Intel writes MISCSELECT as the report's 4 bytes in order, i.e. little-endian. */
function littleEndian(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}
