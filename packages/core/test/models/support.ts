import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ModelFileDigest } from "../../src/models/index.js";
import { inspectModelSignature } from "../../src/models/index.js";
import { TESTVECTORS, VECTOR_INDEX, type VectorEntry } from "../support/testvectors.js";

/** The twelve signed models of testvectors section 14, from index.json. */
export const MODEL_VECTORS: readonly VectorEntry[] = VECTOR_INDEX.filter((e) =>
  /^model-signing\/v/.test(e.id),
);

export function read(path: string): string {
  return readFileSync(join(TESTVECTORS, path), "utf8");
}

export function bundleOf(entry: VectorEntry): string {
  return read(entry.files.bundle as string);
}

/**
 * Hashes the vector's model as the model_signing CLI would find it: every file of the folder but
 * the signature, the bundle's declared ignore paths and `ignore-me` (which the source tests pass
 * with --ignore-paths). A model whose one resource is "." is the single file signme-1.
 */
export function modelFiles(entry: VectorEntry): ModelFileDigest[] {
  const bundle = bundleOf(entry);
  const summary = inspectModelSignature(bundle);
  if (summary.resources.length === 1 && summary.resources[0]?.name === ".") {
    return [{ name: ".", sha256: sha256File(entry.files.signme_1 as string) }];
  }
  const folder = dirname(entry.files.bundle as string);
  const ignored = new Set(["model.sig", "ignore-me", ...summary.ignorePaths]);
  return readdirSync(join(TESTVECTORS, folder))
    .filter((name) => !ignored.has(name))
    .map((name) => ({ name, sha256: sha256File(join(folder, name)) }));
}

export function sha256File(path: string): string {
  return createHash("sha256")
    .update(readFileSync(join(TESTVECTORS, path)))
    .digest("hex");
}

export const SIGNING_KEY_PUB = "model-signing/keys/signing-key-pub.pem";

export const ECDSA_P384 = { name: "ECDSA", namedCurve: "P-384" } as const;

export async function generateP384(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(ECDSA_P384, true, ["sign", "verify"])) as CryptoKeyPair;
}

export async function spkiPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey("spki", key));
  return `-----BEGIN PUBLIC KEY-----\n${der.toString("base64")}\n-----END PUBLIC KEY-----\n`;
}

/** The bundle's JSON with its payload decoded, for tests that rewrite bundles. */
export interface OpenBundle {
  readonly json: {
    mediaType: string;
    verificationMaterial: Record<string, unknown> & { publicKey?: { hint?: string } };
    dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string }[] };
  };
  readonly statement: Record<string, unknown> & {
    _type: string;
    subject: { name: string; digest: { sha256: string } }[];
    predicate: {
      resources: { name: string; digest: string }[];
      serialization: { ignore_paths?: string[] };
    };
  };
}

export function openBundle(text: string): OpenBundle {
  const json = JSON.parse(text) as OpenBundle["json"];
  const statement = JSON.parse(Buffer.from(json.dsseEnvelope.payload, "base64").toString("utf8"));
  return { json, statement };
}
