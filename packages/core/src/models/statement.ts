import { concat, fromHex, fromUtf8, sha256, toHex, utf8 } from "../bytes.js";
import { ParseError } from "../errors.js";
import { describe } from "./bundle.js";
import { normalizeResourceName } from "./paths.js";

/**
 * The in-toto Statement v1 a model signature signs (model_signing's predicate
 * https://model_signing/signature/v1.0): one resource per file with its SHA-256, how the files
 * were serialised, and one subject whose digest is SHA-256 over the resource digests in order.
 */

export const IN_TOTO_STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const MODEL_SIGNATURE_PREDICATE_TYPE = "https://model_signing/signature/v1.0";

export interface ModelResource {
  /** POSIX path relative to the model root, as PurePosixPath prints it; "." for a single file. */
  readonly name: string;
  readonly algorithm: "sha256";
  /** Lower-case hex. */
  readonly digest: string;
}

/** How the signer walked the model. Only per-file SHA-256 ("files") is supported. */
export interface ModelSerialization {
  readonly method: "files";
  readonly hashType: "sha256";
  readonly allowSymlinks: boolean;
  /** Paths (relative to the model root) the signer excluded; v1.1+ records them. */
  readonly ignorePaths: readonly string[];
}

export interface ModelStatement {
  /** Informative only: the model directory's name. Verifiers ignore it, as model_signing does. */
  readonly subjectName: string;
  /** The subject's sha256 as written, to be compared with the resources' digest. */
  readonly subjectDigest: string;
  readonly resources: readonly ModelResource[];
  readonly serialization: ModelSerialization;
}

const MALFORMED = "model.statement.malformed";

/**
 * Reads the DSSE payload. Throws ParseError: `model.statement.type` (not an in-toto Statement v1),
 * `model.statement.predicate_type`, `model.serialization.unsupported` or `model.statement.malformed`.
 */
export function parseModelStatement(payload: Uint8Array): ModelStatement {
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(payload));
  } catch {
    throw new ParseError(MALFORMED, "statement", "is not JSON text");
  }
  const statement = object(json, "statement");
  if (statement._type !== IN_TOTO_STATEMENT_TYPE) {
    throw new ParseError(
      "model.statement.type",
      "statement._type",
      `is ${describe(statement._type)}, not ${IN_TOTO_STATEMENT_TYPE}`,
    );
  }
  if (statement.predicateType !== MODEL_SIGNATURE_PREDICATE_TYPE) {
    throw new ParseError(
      "model.statement.predicate_type",
      "statement.predicateType",
      `is ${describe(statement.predicateType)}, not ${MODEL_SIGNATURE_PREDICATE_TYPE}`,
    );
  }
  const subjects = statement.subject;
  if (!Array.isArray(subjects) || subjects.length !== 1) {
    throw new ParseError(MALFORMED, "statement.subject", "must list exactly one subject");
  }
  const subject = object(subjects[0], "statement.subject[0]");
  const digest = object(subject.digest, "statement.subject[0].digest");
  if (typeof subject.name !== "string" || typeof digest.sha256 !== "string") {
    throw new ParseError(MALFORMED, "statement.subject[0]", "needs a name and a sha256 digest");
  }
  const predicate = object(statement.predicate, "statement.predicate");
  return {
    subjectName: subject.name,
    subjectDigest: digest.sha256,
    serialization: serialization(predicate.serialization),
    resources: resources(predicate.resources),
  };
}

/** SHA-256 over the raw resource digests in listed order, lower-case hex: the subject digest. */
export async function resourcesDigest(resources: readonly ModelResource[]): Promise<string> {
  return toHex(await sha256(concat(resources.map((r) => fromHex(r.digest) as Uint8Array))));
}

/**
 * The payload model_signing writes: protobuf's MessageToJson, i.e. Python's json.dumps with a
 * two-space indent and non-ASCII escaped, fields in the order its Payload class builds them.
 */
export function serializeModelStatement(statement: ModelStatement): Uint8Array {
  const serializationJson: Record<string, unknown> = {
    method: statement.serialization.method,
    hash_type: statement.serialization.hashType,
    allow_symlinks: statement.serialization.allowSymlinks,
  };
  if (statement.serialization.ignorePaths.length > 0) {
    serializationJson.ignore_paths = statement.serialization.ignorePaths;
  }
  const json = {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: statement.subjectName, digest: { sha256: statement.subjectDigest } }],
    predicateType: MODEL_SIGNATURE_PREDICATE_TYPE,
    predicate: {
      serialization: serializationJson,
      resources: statement.resources.map((r) => ({
        name: r.name,
        algorithm: r.algorithm,
        digest: r.digest,
      })),
    },
  };
  const text = JSON.stringify(json, null, 2).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return utf8(text);
}

function serialization(value: unknown): ModelSerialization {
  const field = "statement.predicate.serialization";
  const s = object(value, field);
  if (s.method !== "files" || s.hash_type !== "sha256") {
    throw new ParseError(
      "model.serialization.unsupported",
      field,
      `uses method ${describe(s.method)} with hash ${describe(s.hash_type)}; only per-file SHA-256 ("files", "sha256") is supported`,
    );
  }
  if (typeof s.allow_symlinks !== "boolean") {
    throw new ParseError(MALFORMED, `${field}.allow_symlinks`, "is not true or false");
  }
  const ignore = s.ignore_paths ?? [];
  if (!Array.isArray(ignore) || !ignore.every((p) => typeof p === "string")) {
    throw new ParseError(MALFORMED, `${field}.ignore_paths`, "is not a list of paths");
  }
  return {
    method: "files",
    hashType: "sha256",
    allowSymlinks: s.allow_symlinks,
    ignorePaths: ignore,
  };
}

function resources(value: unknown): ModelResource[] {
  const field = "statement.predicate.resources";
  if (!Array.isArray(value)) throw new ParseError(MALFORMED, field, "is not a list");
  const seen = new Set<string>();
  return value.map((item, i) => {
    const r = object(item, `${field}[${i}]`);
    if (typeof r.name !== "string" || r.name === "") {
      throw new ParseError(MALFORMED, `${field}[${i}].name`, "is not a path");
    }
    if (r.algorithm !== "sha256") {
      throw new ParseError(
        "model.serialization.unsupported",
        `${field}[${i}].algorithm`,
        `is ${describe(r.algorithm)}; only sha256 is supported`,
      );
    }
    if (typeof r.digest !== "string" || !/^[0-9a-fA-F]{64}$/.test(r.digest)) {
      throw new ParseError(MALFORMED, `${field}[${i}].digest`, "is not 64 hex digits");
    }
    const name = normalizeResourceName(r.name);
    // Two entries for one file would let a manifest say two things about it.
    if (seen.has(name)) {
      throw new ParseError(MALFORMED, `${field}[${i}].name`, `repeats ${describe(name)}`);
    }
    seen.add(name);
    return { name, algorithm: "sha256", digest: r.digest.toLowerCase() };
  });
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ParseError(MALFORMED, field, "is not a JSON object");
  }
  return value as Record<string, unknown>;
}
