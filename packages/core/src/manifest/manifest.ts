import { ParseError } from "../errors.js";

/**
 * The workload manifest: everything a caller must know about the workload before trusting it,
 * bound into the TEE evidence through its report data (see binding.ts).
 */
export interface WorkloadManifest {
  readonly schema: typeof MANIFEST_SCHEMA;
  /** The Cloister version serving. */
  readonly cloister: string;
  /** "sha256:<hex>" over the server code that runs. */
  readonly code: string;
  /** "sha256:<hex>" over the canonical serving configuration. */
  readonly config: string;
  readonly models: readonly ManifestModel[];
  /** The OHTTP key configurations (application/ohttp-keys), base64url. */
  readonly ohttpKeys: string;
  /** The key that signs per-response receipts. */
  readonly receiptKey: { readonly alg: "Ed25519"; readonly publicKey: string };
}

export interface ManifestModel {
  /** The id callers put in `model`. */
  readonly id: string;
  readonly kind: "chat" | "embeddings";
  /**
   * "sha256:<hex>" of the model's bytes, or "unverified" when the workload fronts an engine whose
   * weights it cannot hash (an upstream server): a policy that pins model digests refuses it.
   */
  readonly digest: string;
  /** Who signed the model, when it is signed. */
  readonly signer?: string;
}

export const MANIFEST_SCHEMA = "cloister/manifest/v1";

/** The digest of a model the workload cannot hash (see ManifestModel.digest). */
export const UNVERIFIED_MODEL = "unverified";

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

/** Checks the shape of a manifest received as JSON. Unknown fields are kept (they are bound too). */
export function parseManifest(value: unknown): WorkloadManifest {
  const m = object(value, "manifest");
  expect(m.schema === MANIFEST_SCHEMA, "manifest.schema", `must be "${MANIFEST_SCHEMA}"`);
  string(m.cloister, "manifest.cloister");
  digest(m.code, "manifest.code");
  digest(m.config, "manifest.config");
  expect(Array.isArray(m.models), "manifest.models", "must be an array");
  (m.models as unknown[]).forEach((entry, i) => {
    const model = object(entry, `manifest.models[${i}]`);
    string(model.id, `manifest.models[${i}].id`);
    expect(
      model.kind === "chat" || model.kind === "embeddings",
      `manifest.models[${i}].kind`,
      'must be "chat" or "embeddings"',
    );
    if (model.digest !== UNVERIFIED_MODEL) digest(model.digest, `manifest.models[${i}].digest`);
    if (model.signer !== undefined) string(model.signer, `manifest.models[${i}].signer`);
  });
  expect(
    typeof m.ohttpKeys === "string" && B64URL.test(m.ohttpKeys),
    "manifest.ohttpKeys",
    "must be base64url",
  );
  const key = object(m.receiptKey, "manifest.receiptKey");
  expect(key.alg === "Ed25519", "manifest.receiptKey.alg", 'must be "Ed25519"');
  expect(
    typeof key.publicKey === "string" && B64URL.test(key.publicKey),
    "manifest.receiptKey.publicKey",
    "must be base64url",
  );
  return value as WorkloadManifest;
}

function object(value: unknown, field: string): Record<string, unknown> {
  expect(
    typeof value === "object" && value !== null && !Array.isArray(value),
    field,
    "must be a JSON object",
  );
  return value as Record<string, unknown>;
}

function string(value: unknown, field: string): void {
  expect(typeof value === "string" && value.length > 0, field, "must be a non-empty string");
}

function digest(value: unknown, field: string): void {
  expect(
    typeof value === "string" && DIGEST.test(value),
    field,
    'must be "sha256:" and 64 lower-case hex characters',
  );
}

function expect(ok: boolean, field: string, rule: string): asserts ok {
  if (!ok) throw new ParseError("manifest.parse", field, rule);
}
