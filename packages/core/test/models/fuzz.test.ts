import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { CloisterError } from "../../src/errors.js";
import {
  type ModelTrust,
  type ModelVerification,
  verifyModelSignature,
} from "../../src/models/index.js";
import { vectorEntry } from "../support/testvectors.js";
import { bundleOf, modelFiles, read, SIGNING_KEY_PUB } from "./support.js";

/**
 * Mutated bundles never throw anything but a typed error, and a bundle whose signed bytes
 * (payload, payload type, signature) changed never verifies. 10,000 bundles per run.
 */

const NOW = new Date("2026-01-01T00:00:00Z");
const KEY = vectorEntry("model-signing/v1.1.0-elliptic-key");
const CERT = vectorEntry("model-signing/v1.1.0-certificate");
const KEY_TRUST: ModelTrust = { method: "key", keys: [read(SIGNING_KEY_PUB)] };
const CERT_TRUST: ModelTrust = {
  method: "certificate",
  certificates: [read(CERT.files.root_ca as string)],
};

interface Signed {
  payload: string;
  payloadType: string;
  sig: string;
}

function signedParts(text: string): Signed | undefined {
  try {
    const env = JSON.parse(text).dsseEnvelope;
    return {
      payload: Buffer.from(env.payload, "base64").toString("hex"),
      payloadType: env.payloadType,
      sig: Buffer.from(env.signatures[0].sig, "base64").toString("hex"),
    };
  } catch {
    return undefined;
  }
}

/** Verifies, mapping a typed refusal to undefined; any other throw fails the property. */
async function attempt(
  bundle: string,
  trust: ModelTrust,
  files: ReturnType<typeof modelFiles>,
): Promise<ModelVerification | undefined> {
  try {
    return await verifyModelSignature(bundle, { files, trust, now: NOW });
  } catch (error) {
    assert.ok(error instanceof CloisterError, `untyped throw: ${String(error)}`);
    return undefined;
  }
}

function flipByte(bytes: Buffer, at: number, xor: number): Buffer {
  const out = Buffer.from(bytes);
  const i = at % out.length;
  out[i] = (out[i] as number) ^ xor;
  return out;
}

describe("model-signing fuzz", () => {
  // Runs per property (signed-byte flips, text edits, JSON values): 8,500 key and 1,500
  // certificate bundles, the latter fewer because each costs a chain verification.
  for (const [entry, trust, runs] of [
    [KEY, KEY_TRUST, { flip: 2500, text: 3000, json: 3000 }],
    [CERT, CERT_TRUST, { flip: 300, text: 600, json: 600 }],
  ] as const) {
    const original = bundleOf(entry);
    const files = modelFiles(entry);
    const json = JSON.parse(original);

    test(`${entry.id}: a changed signed byte never verifies`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("payload", "sig", "payloadType"),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          async (field, at, xor) => {
            const mutated = structuredClone(json);
            const env = mutated.dsseEnvelope;
            if (field === "payloadType") {
              env.payloadType = flipByte(Buffer.from(env.payloadType), at, xor).toString("latin1");
            } else {
              const target = field === "payload" ? env : env.signatures[0];
              const key = field === "payload" ? "payload" : "sig";
              target[key] = flipByte(Buffer.from(target[key], "base64"), at, xor).toString(
                "base64",
              );
            }
            const result = await attempt(JSON.stringify(mutated), trust, files);
            assert.notEqual(result?.verified, true);
            if (result) assert.ok(result.reasons.length > 0);
          },
        ),
        { numRuns: runs.flip },
      );
    });

    test(`${entry.id}: a changed character of the bundle text only verifies if no signed byte changed`, async () => {
      const signed = signedParts(original);
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: original.length - 1 }),
          fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
          async (at, c) => {
            const mutated = original.slice(0, at) + c + original.slice(at + 1);
            const result = await attempt(mutated, trust, files);
            if (result?.verified) assert.deepEqual(signedParts(mutated), signed);
          },
        ),
        { numRuns: runs.text },
      );
    });

    test(`${entry.id}: any JSON value in any field is refused with a typed error or a failed check`, async () => {
      const paths = leafPaths(json);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...paths),
          fc.jsonValue({ maxDepth: 2 }),
          async (path, value) => {
            const mutated = structuredClone(json);
            setAt(mutated, path, value);
            const result = await attempt(JSON.stringify(mutated), trust, files);
            if (result?.verified)
              assert.deepEqual(signedParts(JSON.stringify(mutated)), signedParts(original));
          },
        ),
        { numRuns: runs.json },
      );
    });
  }
});

/** Every path to a value in the JSON tree, objects and arrays included. */
function leafPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const here = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(value))
    return [...here, ...value.flatMap((v, i) => leafPaths(v, [...prefix, i]))];
  if (typeof value === "object" && value !== null) {
    return [...here, ...Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k]))];
  }
  return here;
}

function setAt(root: unknown, path: readonly (string | number)[], value: unknown): void {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1) as string | number] = value;
}
