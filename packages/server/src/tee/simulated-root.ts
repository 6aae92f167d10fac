import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  type JsonWebKey as NodeJwk,
  randomBytes,
} from "node:crypto";
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { simulatedRootId } from "@cloister/core";
import { createFileAtomic, writeFileAtomic } from "./atomic-file.js";
import { errnoOf, fileError, TeeError } from "./errors.js";

/** The files a simulated root lives in, inside the user's config directory. */
export const SIMULATED_ROOT_FILES = Object.freeze({
  privateJwk: "simulated-root.private.jwk",
  publicJwk: "simulated-root.public.jwk",
  /** SPKI PEM: what a user passes to `--allow-simulated`. */
  pem: "simulated-root.pem",
  instanceId: "simulated-instance-id",
});

/**
 * The per-installation key that signs simulated evidence. Whoever holds it can forge any
 * simulated evidence, which is why simulated evidence is never trusted by default.
 */
export interface SimulatedRoot {
  readonly configDir: string;
  /** RFC 7638 SHA-256 thumbprint of the public key: the `kid` of every evidence it signs. */
  readonly id: string;
  /** The public key as a JWK with only kty, crv, x and y: what a policy pins. */
  readonly publicJwk: JsonWebKey;
  readonly pemPath: string;
  /** A random 32-byte identity standing in for a chip ID, lower-case hex. */
  readonly instanceId: string;
  /** For signing only; a KeyObject never serialises its key material. */
  readonly privateKey: KeyObject;
}

const PRIVATE_MODE = 0o600;
const PUBLIC_MODE = 0o644;
const DIR_MODE = 0o700;
const INSTANCE_ID = /^[0-9a-f]{64}$/;

/**
 * Loads the simulated root from `configDir`, creating it on first use. The private JWK is the
 * source of truth and is created exclusively (two processes starting at once end up with one
 * key); the public JWK and PEM are derived from it and rewritten whenever they disagree.
 */
export async function loadOrCreateSimulatedRoot(configDir: string): Promise<SimulatedRoot> {
  try {
    await mkdir(configDir, { recursive: true, mode: DIR_MODE });
  } catch (error) {
    throw fileError("tee.config_dir", "Creating the config directory", configDir, error);
  }
  const privatePath = join(configDir, SIMULATED_ROOT_FILES.privateJwk);
  const privateKey = await loadOrCreatePrivateKey(privatePath);
  const publicJwk = publicJwkOf(privateKey);
  const pemPath = join(configDir, SIMULATED_ROOT_FILES.pem);
  const pem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
  await ensureContent(join(configDir, SIMULATED_ROOT_FILES.publicJwk), jsonText(publicJwk));
  await ensureContent(pemPath, pem);
  const instanceId = await loadOrCreateInstanceId(join(configDir, SIMULATED_ROOT_FILES.instanceId));
  return {
    configDir,
    id: await simulatedRootId(publicJwk),
    publicJwk,
    pemPath,
    instanceId,
    privateKey,
  };
}

async function loadOrCreatePrivateKey(path: string): Promise<KeyObject> {
  if ((await readIfExists(path, "tee.simulated_root_unreadable")) === undefined) {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
    const jwk = privateKey.export({ format: "jwk" });
    await create(path, jsonText({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d }));
  }
  await requirePrivateMode(path);
  // Read back even after creating it: if another process won the race, its key is the one.
  const text = (await readIfExists(path, "tee.simulated_root_unreadable")) ?? "";
  const invalid = new TeeError(
    "tee.simulated_root_invalid",
    `${path} is not an ECDSA P-384 private JWK; delete it to create a new simulated root.`,
  );
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw invalid;
  }
  const fields = jwk as Record<string, unknown> | null;
  if (fields?.kty !== "EC" || fields.crv !== "P-384" || typeof fields.d !== "string") throw invalid;
  try {
    return createPrivateKey({ key: fields as NodeJwk, format: "jwk" });
  } catch {
    throw invalid;
  }
}

async function loadOrCreateInstanceId(path: string): Promise<string> {
  if ((await readIfExists(path, "tee.simulated_instance_unreadable")) === undefined) {
    await create(path, `${randomBytes(32).toString("hex")}\n`, PUBLIC_MODE);
  }
  const id = ((await readIfExists(path, "tee.simulated_instance_unreadable")) ?? "").trim();
  if (!INSTANCE_ID.test(id)) {
    throw new TeeError(
      "tee.simulated_instance_invalid",
      `${path} does not hold 64 lower-case hex characters; delete it to create a new instance id.`,
    );
  }
  return id;
}

/** A simulated root readable by others lets them forge evidence that developers have pinned. */
async function requirePrivateMode(path: string): Promise<void> {
  if (process.platform === "win32") return;
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    throw fileError("tee.simulated_root_unreadable", "Reading", path, error);
  }
  if ((mode & 0o077) !== 0) {
    throw new TeeError(
      "tee.simulated_root_permissions",
      `${path} can be read by other users (mode ${(mode & 0o777).toString(8)}); run \`chmod 600 ${path}\`.`,
    );
  }
}

async function create(path: string, text: string, mode = PRIVATE_MODE): Promise<void> {
  try {
    await createFileAtomic(path, text, mode);
  } catch (error) {
    throw fileError("tee.simulated_root_write", "Creating", path, error);
  }
}

async function ensureContent(path: string, text: string): Promise<void> {
  if ((await readIfExists(path, "tee.simulated_root_unreadable")) === text) return;
  try {
    await writeFileAtomic(path, text, PUBLIC_MODE);
  } catch (error) {
    throw fileError("tee.simulated_root_write", "Writing", path, error);
  }
}

async function readIfExists(path: string, code: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw fileError(code, "Reading", path, error);
  }
}

function publicJwkOf(key: KeyObject): JsonWebKey {
  const jwk = (key.type === "private" ? createPublicKey(key) : key).export({ format: "jwk" });
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Reads a simulated root's public key from a PEM (SPKI) or JWK file, for `--allow-simulated`.
 * Refuses private keys, so a private key passed by mistake is never copied into a policy.
 */
export async function readSimulatedRoot(path: string): Promise<JsonWebKey> {
  let text: string;
  try {
    text = (await readFile(path, "utf8")).trim();
  } catch (error) {
    if (errnoOf(error) === "ENOENT") {
      throw new TeeError(
        "tee.simulated_root_missing",
        `There is no simulated root at ${path}; pass the ${SIMULATED_ROOT_FILES.pem} that \`cloister serve\` printed.`,
      );
    }
    throw fileError("tee.simulated_root_unreadable", "Reading", path, error);
  }
  const key = text.startsWith("{") ? publicKeyFromJwk(path, text) : publicKeyFromPem(path, text);
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== "ec" || curve !== "secp384r1") {
    const what =
      key.asymmetricKeyType === "ec" ? `an EC key on ${curve}` : `a ${key.asymmetricKeyType} key`;
    throw new TeeError(
      "tee.simulated_root_not_p384",
      `${path} holds ${what}; a simulated root is an ECDSA P-384 key.`,
    );
  }
  return publicJwkOf(key);
}

function publicKeyFromJwk(path: string, text: string): KeyObject {
  let jwk: Record<string, unknown>;
  try {
    jwk = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw invalidRoot(path);
  }
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) throw invalidRoot(path);
  if ("d" in jwk) throw privateRoot(path);
  try {
    return createPublicKey({ key: jwk as NodeJwk, format: "jwk" });
  } catch {
    throw invalidRoot(path);
  }
}

function publicKeyFromPem(path: string, text: string): KeyObject {
  const label = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1];
  if (label?.includes("PRIVATE KEY")) throw privateRoot(path);
  if (label !== "PUBLIC KEY") throw invalidRoot(path);
  try {
    return createPublicKey(text);
  } catch {
    throw invalidRoot(path);
  }
}

function privateRoot(path: string): TeeError {
  return new TeeError(
    "tee.simulated_root_private",
    `${path} is a private key; pass the public ${SIMULATED_ROOT_FILES.pem} instead and keep the private key where it is.`,
  );
}

function invalidRoot(path: string): TeeError {
  return new TeeError(
    "tee.simulated_root_invalid",
    `${path} is neither a PUBLIC KEY PEM nor a public JWK.`,
  );
}
