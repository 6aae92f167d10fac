import { asBufferSource, fromHex, fromUtf8, toHex } from "../../bytes.js";
import { ParseError } from "../../errors.js";
import { fail, pass } from "../checks.js";
import type { Check } from "../types.js";
import { VerificationError } from "../verifier.js";
import type { SignedJson } from "./collateral.js";
import { TCB_STATUSES, type TcbStatus } from "./policy.js";

/**
 * Intel's TCB info (PCS "TCB Info" v2 for SGX, v3 for SGX and TDX): for one FMSPC, which TCB
 * levels exist and how Intel rates each. It is read only from the bytes its signature covers,
 * so that what is evaluated is exactly what Intel signed.
 */

export interface TcbLevel {
  /** SGX TCB components 01..16. */
  readonly sgxComponents: readonly number[];
  readonly pceSvn: number;
  /** TDX TCB components 01..16 (TDX TCB info only). */
  readonly tdxComponents?: readonly number[];
  /** As Intel writes it, e.g. "2024-03-13T00:00:00Z". */
  readonly tcbDate: string;
  readonly status: TcbStatus;
  readonly advisoryIds: readonly string[];
}

/** A level of an identity rated by one ISVSVN: the QE's, or the TDX module's. */
export interface IsvTcbLevel {
  readonly isvSvn: number;
  readonly tcbDate: string;
  readonly status: TcbStatus;
  readonly advisoryIds: readonly string[];
}

/** Who may sign the TDX module (MRSIGNERSEAM) and which SEAM attributes it may run with. */
export interface TdxModule {
  /** 48 bytes. */
  readonly mrSigner: Uint8Array;
  /** 8 bytes each. */
  readonly attributes: Uint8Array;
  readonly attributesMask: Uint8Array;
}

export interface TdxModuleIdentity extends TdxModule {
  /** "TDX_" and the module's major version in hex, e.g. "TDX_01". */
  readonly id: string;
  readonly tcbLevels: readonly IsvTcbLevel[];
}

interface TcbInfoCommon {
  readonly version: 2 | 3;
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  /** 6 bytes, lower-case hex (Intel often writes it in upper case). */
  readonly fmspc: string;
  /** 2 bytes, lower-case hex. */
  readonly pceId: string;
  readonly tcbType: number;
  /** Intel's TCB recovery counter, for policy. */
  readonly tcbEvaluationDataNumber: number;
  /** Newest first, as Intel lists them. */
  readonly tcbLevels: readonly TcbLevel[];
}

export interface SgxTcbInfo extends TcbInfoCommon {
  readonly id: "SGX";
}

export interface TdxTcbInfo extends TcbInfoCommon {
  readonly id: "TDX";
  readonly version: 3;
  readonly tdxModule: TdxModule;
  /** Per module major version (TDX 1.5 and later). */
  readonly tdxModuleIdentities?: readonly TdxModuleIdentity[];
}

export type TcbInfo = SgxTcbInfo | TdxTcbInfo;

const MALFORMED = "dcap.tcb_info.malformed";

/**
 * Checks Intel's ECDSA P-256 / SHA-256 signature (raw r || s) over the exact signed bytes, with
 * the key of the Intel SGX TCB Signing certificate.
 */
export async function verifySignedJson(
  signed: SignedJson,
  key: CryptoKey,
  what: "tcb_info" | "qe_identity",
): Promise<void> {
  const valid =
    signed.signature.length === 64 &&
    (await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      key,
      asBufferSource(signed.signature),
      asBufferSource(signed.signedBytes),
    ));
  if (!valid) {
    const name = what === "tcb_info" ? "TCB info" : "QE identity";
    throw new VerificationError(
      `dcap.${what}.signature`,
      `The ${name}'s signature does not verify with the Intel SGX TCB Signing key: it was altered (even one byte or one space) or not issued by Intel.`,
    );
  }
}

/** Reads a TCB info from its signed bytes; ParseError "dcap.tcb_info.malformed" names the field. */
export function parseTcbInfo(signed: SignedJson): TcbInfo {
  const root = JsonObject.parse(signed.signedBytes, MALFORMED, "tcbInfo");
  const version = root.integer("version", 0xffff);
  if (version !== 2 && version !== 3) {
    root.fail("version", `is ${version}; TCB info versions 2 and 3 are supported`);
  }
  // Version 2 predates TDX and has no id: it is always SGX.
  const id = version === 2 ? "SGX" : teeId(root);
  const tcbType = root.integer("tcbType", 0xffff);
  if (tcbType !== 0) root.fail("tcbType", `is ${tcbType}; only type 0 is defined`);
  const levels = root.array("tcbLevels");
  if (levels.length === 0) root.fail("tcbLevels", "is empty");
  const common = {
    version: version as 2 | 3,
    issueDate: root.date("issueDate"),
    nextUpdate: root.date("nextUpdate"),
    fmspc: toHex(root.hex("fmspc", 6)),
    pceId: toHex(root.hex("pceId", 2)),
    tcbType,
    tcbEvaluationDataNumber: root.integer("tcbEvaluationDataNumber", 0xffffffff),
    tcbLevels: levels.map((value, i) =>
      parseLevel(JsonObject.of(value, MALFORMED, `${root.path}.tcbLevels[${i}]`), version, id),
    ),
  };
  if (id === "SGX") return { id, ...common };
  const identities = root.has("tdxModuleIdentities")
    ? root.array("tdxModuleIdentities").map((value, i) => {
        const entry = JsonObject.of(value, MALFORMED, `${root.path}.tdxModuleIdentities[${i}]`);
        return {
          id: entry.string("id"),
          ...parseModule(entry),
          tcbLevels: parseIsvTcbLevels(entry),
        };
      })
    : undefined;
  return {
    id,
    ...common,
    version: 3,
    tdxModule: parseModule(root.object("tdxModule")),
    ...(identities === undefined ? {} : { tdxModuleIdentities: identities }),
  };
}

/** issueDate ≤ now ≤ nextUpdate: Intel reissues TCB info at least monthly. */
export function tcbInfoValidity(info: TcbInfo, now: Date): Check {
  return collateralValidity("tcb_info", "TCB info", info.issueDate, info.nextUpdate, now);
}

/**
 * The TCB info must be the one for the platform's FMSPC and PCE: another platform's levels say
 * nothing about this one. FMSPCs compare case-insensitively (the certificate and the TCB info
 * spell hex differently).
 */
export function tcbInfoMatchesPck(
  info: TcbInfo,
  pck: { readonly fmspc: string; readonly pceId: string },
): Check[] {
  if (pck.fmspc.toLowerCase() !== info.fmspc) {
    throw new VerificationError(
      "dcap.tcb_info.fmspc",
      `The TCB info is for FMSPC ${info.fmspc}, but the PCK certificate's FMSPC is ${pck.fmspc.toLowerCase()}: supply the TCB info for this platform.`,
    );
  }
  if (pck.pceId.toLowerCase() !== info.pceId) {
    throw new VerificationError(
      "dcap.tcb_info.pce_id",
      `The TCB info is for PCE ID ${info.pceId}, but the PCK certificate's is ${pck.pceId.toLowerCase()}.`,
    );
  }
  return [
    pass(
      "dcap.tcb_info.platform",
      `The TCB info is for this platform (FMSPC ${info.fmspc}, PCE ID ${info.pceId}).`,
    ),
  ];
}

/** The validity rule TCB info and QE identity share; the fail names the nextUpdate. */
export function collateralValidity(
  what: "tcb_info" | "qe_identity",
  name: string,
  issueDate: Date,
  nextUpdate: Date,
  now: Date,
): Check {
  const window = `${issueDate.toISOString()} to ${nextUpdate.toISOString()}`;
  if (now.getTime() < issueDate.getTime()) {
    return fail(
      `dcap.${what}.expired`,
      `The ${name} was issued at ${issueDate.toISOString()}, after the verification time ${now.toISOString()}.`,
    );
  }
  if (now.getTime() > nextUpdate.getTime()) {
    return fail(
      `dcap.${what}.expired`,
      `The ${name} expired: its next update was due ${nextUpdate.toISOString()}, before the verification time ${now.toISOString()}; fetch a current one.`,
    );
  }
  return pass(`dcap.${what}.current`, `The ${name} is current (${window}).`);
}

/** The tcbLevels of a QE or TDX module identity: [{tcb: {isvsvn}, tcbDate, tcbStatus, advisoryIDs?}]. */
export function parseIsvTcbLevels(owner: JsonObject): IsvTcbLevel[] {
  const levels = owner.array("tcbLevels");
  if (levels.length === 0) owner.fail("tcbLevels", "is empty");
  return levels.map((value, i) => {
    const level = JsonObject.of(value, owner.code, `${owner.path}.tcbLevels[${i}]`);
    return {
      isvSvn: level.object("tcb").integer("isvsvn", 0xffff),
      ...rating(level),
    };
  });
}

function parseLevel(level: JsonObject, version: number, id: "SGX" | "TDX"): TcbLevel {
  const tcb = level.object("tcb");
  const sgxComponents =
    version === 2
      ? Array.from({ length: 16 }, (_, i) =>
          tcb.integer(`sgxtcbcomp${String(i + 1).padStart(2, "0")}svn`, 255),
        )
      : components(tcb, "sgxtcbcomponents");
  return {
    sgxComponents,
    pceSvn: tcb.integer("pcesvn", 0xffff),
    ...(id === "TDX" ? { tdxComponents: components(tcb, "tdxtcbcomponents") } : {}),
    ...rating(level),
  };
}

/** Exactly 16 components: a shorter list would leave components unchecked. */
function components(tcb: JsonObject, name: string): number[] {
  const list = tcb.array(name);
  if (list.length !== 16) tcb.fail(name, `has ${list.length} components, not 16`);
  return list.map((value, i) =>
    JsonObject.of(value, tcb.code, `${tcb.path}.${name}[${i}]`).integer("svn", 255),
  );
}

function rating(level: JsonObject): Pick<TcbLevel, "tcbDate" | "status" | "advisoryIds"> {
  const status = level.string("tcbStatus");
  if (!(TCB_STATUSES as readonly string[]).includes(status)) {
    level.fail("tcbStatus", `is ${JSON.stringify(status)}, not a status Intel defines`);
  }
  level.date("tcbDate");
  return {
    tcbDate: level.string("tcbDate"),
    status: status as TcbStatus,
    advisoryIds: level.has("advisoryIDs") ? level.stringList("advisoryIDs") : [],
  };
}

function teeId(root: JsonObject): "SGX" | "TDX" {
  const id = root.string("id");
  if (id !== "SGX" && id !== "TDX") root.fail("id", `is ${JSON.stringify(id)}, not SGX or TDX`);
  return id;
}

function parseModule(entry: JsonObject): TdxModule {
  return {
    mrSigner: entry.hex("mrsigner", 48),
    attributes: entry.hex("attributes", 8),
    attributesMask: entry.hex("attributesMask", 8),
  };
}

/** Intel writes every date as ISO 8601 in UTC, e.g. "2025-06-19T10:16:03Z". */
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/**
 * Typed reads of one JSON object's members; every error is a ParseError with the collateral's
 * code and the member's path (e.g. "tcbInfo.tcbLevels[3].tcbStatus"). Shared with qe-identity.ts.
 */
export class JsonObject {
  private constructor(
    readonly code: string,
    readonly path: string,
    private readonly members: Record<string, unknown>,
  ) {}

  /** The object the signed bytes hold: UTF-8 JSON text of one object. */
  static parse(bytes: Uint8Array, code: string, path: string): JsonObject {
    let value: unknown;
    try {
      value = JSON.parse(fromUtf8(bytes));
    } catch {
      throw new ParseError(code, path, "is not UTF-8 JSON text");
    }
    return JsonObject.of(value, code, path);
  }

  static of(value: unknown, code: string, path: string): JsonObject {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new ParseError(code, path, "is not a JSON object");
    }
    return new JsonObject(code, path, value as Record<string, unknown>);
  }

  has(name: string): boolean {
    return Object.hasOwn(this.members, name);
  }

  fail(name: string, message: string): never {
    throw new ParseError(this.code, `${this.path}.${name}`, message);
  }

  string(name: string): string {
    const value = this.members[name];
    if (typeof value !== "string")
      this.fail(name, this.has(name) ? "is not a string" : "is missing");
    return value;
  }

  integer(name: string, max: number): number {
    const value = this.members[name];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
      this.fail(name, this.has(name) ? `is not an integer of 0..${max}` : "is missing");
    }
    return value;
  }

  hex(name: string, length: number): Uint8Array {
    const bytes = fromHex(this.string(name));
    if (bytes === undefined || bytes.length !== length) {
      this.fail(name, `is not ${length} bytes of hex`);
    }
    return bytes;
  }

  date(name: string): Date {
    const text = this.string(name);
    const date = new Date(text);
    if (!DATE.test(text) || Number.isNaN(date.getTime())) {
      this.fail(name, `is ${JSON.stringify(text.slice(0, 40))}, not an ISO 8601 UTC time`);
    }
    return date;
  }

  array(name: string): unknown[] {
    const value = this.members[name];
    if (!Array.isArray(value)) this.fail(name, this.has(name) ? "is not an array" : "is missing");
    return value;
  }

  object(name: string): JsonObject {
    if (!this.has(name)) this.fail(name, "is missing");
    return JsonObject.of(this.members[name], this.code, `${this.path}.${name}`);
  }

  stringList(name: string): string[] {
    const list = this.array(name);
    if (!list.every((v) => typeof v === "string")) this.fail(name, "is not a list of strings");
    return list as string[];
  }
}
