import { fromBase64Url, fromUtf8 } from "../../bytes.js";
import { ParseError } from "../../errors.js";
import { SIMULATED_ALG, SIMULATED_JWS_TYPE, type SimulatedReport } from "./format.js";

export interface ParsedSimulatedEvidence {
  readonly header: { readonly alg: string; readonly typ: string; readonly kid: string };
  readonly report: SimulatedReport;
  /** The compact JWS text, kept for signature verification. */
  readonly compact: string;
}

const HEX = (length: number) => new RegExp(`^[0-9a-f]{${length}}$`);

/** Bytes -> typed structure. Total: any input parses or throws a ParseError naming the field. */
export function parseSimulatedEvidence(data: Uint8Array): ParsedSimulatedEvidence {
  let compact: string;
  try {
    compact = fromUtf8(data).trim();
  } catch {
    throw new ParseError("evidence.parse", "simulated evidence", "is not UTF-8 text");
  }
  const parts = compact.split(".");
  if (parts.length !== 3) {
    throw new ParseError(
      "evidence.parse",
      "simulated evidence",
      `is not a compact JWS (expected 3 parts, found ${parts.length})`,
    );
  }
  const header = decodeJsonPart(parts[0] as string, "JWS header");
  const payload = decodeJsonPart(parts[1] as string, "JWS payload");
  if (header.alg !== SIMULATED_ALG) {
    throw new ParseError(
      "evidence.parse",
      "JWS header.alg",
      `must be ${SIMULATED_ALG}, found ${String(header.alg)}`,
    );
  }
  if (header.typ !== SIMULATED_JWS_TYPE) {
    throw new ParseError("evidence.parse", "JWS header.typ", `must be ${SIMULATED_JWS_TYPE}`);
  }
  if (typeof header.kid !== "string" || header.kid.length === 0) {
    throw new ParseError(
      "evidence.parse",
      "JWS header.kid",
      "must name the simulated root (its JWK thumbprint)",
    );
  }
  const report: SimulatedReport = {
    v: field(payload, "v", (v) => v === 1, "must be 1") as 1,
    platform: field(
      payload,
      "platform",
      (v) => v === "simulated",
      'must be "simulated"',
    ) as "simulated",
    measurement: field(
      payload,
      "measurement",
      isHex(96),
      "must be 96 lower-case hex characters",
    ) as string,
    report_data: field(
      payload,
      "report_data",
      isHex(128),
      "must be 128 lower-case hex characters",
    ) as string,
    debug: field(payload, "debug", (v) => typeof v === "boolean", "must be a boolean") as boolean,
    instance_id: field(
      payload,
      "instance_id",
      isHex(64),
      "must be 64 lower-case hex characters",
    ) as string,
    iat: field(
      payload,
      "iat",
      (v) => Number.isSafeInteger(v) && (v as number) >= 0,
      "must be a non-negative integer",
    ) as number,
  };
  return { header: { alg: header.alg, typ: header.typ, kid: header.kid }, report, compact };
}

function decodeJsonPart(part: string, name: string): Record<string, unknown> {
  const bytes = fromBase64Url(part);
  if (bytes === undefined) throw new ParseError("evidence.parse", name, "is not base64url");
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new ParseError("evidence.parse", name, "is not UTF-8 JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ParseError("evidence.parse", name, "is not a JSON object");
  }
  return value as Record<string, unknown>;
}

function isHex(length: number): (v: unknown) => boolean {
  const re = HEX(length);
  return (v) => typeof v === "string" && re.test(v);
}

function field(
  obj: Record<string, unknown>,
  name: string,
  ok: (v: unknown) => boolean,
  rule: string,
): unknown {
  const value = obj[name];
  if (!ok(value)) throw new ParseError("evidence.parse", `simulated report.${name}`, rule);
  return value;
}
