import { asBufferSource, fromHex, toHex, utf8 } from "../../../bytes.js";
import { CloisterError } from "../../../errors.js";
import { parseCertificates, signedBy } from "../../pki/certificates.js";
import type { X509Certificate } from "../../pki/x509.js";
import type { GpuAttestation } from "../attestation.js";
import { fwidOf } from "../chain.js";
import { deviceOf, type NvidiaArchitecture } from "../device.js";
import { p384Key } from "../keys.js";
import { issueSimulatedChain, P384 } from "./certificates.js";
import { encodeGpuEvidence, type GpuMeasurementInput, signGpuEvidence } from "./encode.js";

/**
 * A developer-only stand-in for a confidential GPU: it signs SPDM evidence for any nonce with a
 * device key certified by its own root. Verifiers accept that root only when it is passed to
 * them explicitly (simulatedRoots), and then always warn: whoever holds the key can sign
 * anything, so the evidence attests no hardware.
 */
export interface SimulatedGpu {
  /** The root certificate (PEM) a verifier must be given to accept this GPU's evidence. */
  readonly rootPem: string;
  /** The device chain, leaf then root (PEM): what collect() returns as the certificates. */
  readonly chainPem: string;
  /** Evidence signing the first 32 bytes of `nonce`, as the verifier compares them. */
  collect(nonce: Uint8Array): Promise<GpuAttestation>;
  /** The device's private key, to persist with chainPem and restore with importSimulatedGpu. */
  exportPrivateJwk(): Promise<JsonWebKey>;
}

/** What the simulated device reports; the defaults look like a Hopper GPU's. */
export interface SimulatedGpuOptions {
  /** Dotted decimal; default "550.90.07". */
  readonly driverVersion?: string;
  /** Five dotted hex bytes; default "96.00.9f.00.01". */
  readonly vbiosVersion?: string;
  /**
   * Measurement index (1..254) -> value (hex). Default: 64 measurements, value i being the
   * SHA-384 of "Cloister simulated GPU measurement i", stable across restarts.
   */
  readonly measurements?: Readonly<Record<number, string>>;
}

export interface CreateSimulatedGpuOptions extends SimulatedGpuOptions {
  /** The only architecture simulated so far. */
  readonly arch?: Extract<NvidiaArchitecture, "HOPPER">;
}

const CHIPS = { HOPPER: "GH100" } as const;
const NONCE_LENGTH = 32;
const FWID_LENGTH = 48;
const HOPPER_MEASUREMENTS = 64;

/** A new simulated GPU: a fresh root, device key and FWID. Reads the clock for the certificates. */
export async function createSimulatedGpu(
  options: CreateSimulatedGpuOptions = {},
): Promise<SimulatedGpu> {
  const keys = await crypto.subtle.generateKey(P384, true, ["sign", "verify"]);
  const fwid = crypto.getRandomValues(new Uint8Array(FWID_LENGTH));
  const chip = CHIPS[options.arch ?? "HOPPER"];
  const { root, leaf } = await issueSimulatedChain(chip, keys, fwid, new Date());
  return simulatedGpu(keys.privateKey, leaf, root, toHex(fwid), options);
}

/**
 * A simulated GPU restored from what a server persisted: its private JWK and chain PEM (leaf
 * first, root last), with the same options it was created with.
 */
export async function importSimulatedGpu(
  privateJwk: JsonWebKey,
  chainPem: string,
  options: SimulatedGpuOptions = {},
): Promise<SimulatedGpu> {
  const certificates = parseCertificates(chainPem, "the simulated GPU chain");
  const leaf = certificates[0];
  const root = certificates[certificates.length - 1];
  const fwid = leaf === undefined ? undefined : fwidOf(leaf);
  if (
    certificates.length !== 2 ||
    leaf === undefined ||
    root === undefined ||
    fwid === undefined ||
    deviceOf(leaf) === undefined
  ) {
    throw new CloisterError(
      "nvidia.simulated.chain",
      "The simulated GPU chain is not a device certificate with an FWID followed by its root.",
    );
  }
  const rootKey = await p384Key(root);
  if (rootKey === undefined || !(await signedBy(leaf, rootKey))) {
    throw new CloisterError(
      "nvidia.simulated.chain",
      "The simulated GPU's device certificate is not signed by the chain's root.",
    );
  }
  const privateKey = await importPrivateKey(privateJwk);
  if (!(await sameKey(privateKey, leaf))) {
    throw new CloisterError(
      "nvidia.simulated.key",
      "The private key does not belong to the simulated GPU's device certificate.",
    );
  }
  return simulatedGpu(privateKey, leaf, root, fwid, options);
}

async function simulatedGpu(
  privateKey: CryptoKey,
  leaf: X509Certificate,
  root: X509Certificate,
  fwid: string,
  options: SimulatedGpuOptions,
): Promise<SimulatedGpu> {
  const blocks = await measurementBlocks(options.measurements);
  const maxIndex = Math.max(0, ...blocks.map((block) => block.index));
  const opaque = {
    vbiosVersion: options.vbiosVersion ?? "96.00.9f.00.01",
    driverVersion: options.driverVersion ?? "550.90.07",
    // How often each index was extended: once for each index the device reports.
    measurementCount: Array.from({ length: maxIndex }, (_, i) =>
      blocks.some((block) => block.index === i + 1) ? 1 : 0,
    ),
    fwid,
  };
  // Fails now, on bad options, rather than at the first collect().
  encodeGpuEvidence({ nonce: new Uint8Array(NONCE_LENGTH), blocks, opaque });
  const rootPem = root.toString("pem");
  const chainPem = `${leaf.toString("pem")}\n${rootPem}\n`;
  return {
    rootPem,
    chainPem,
    async collect(nonce: Uint8Array): Promise<GpuAttestation> {
      if (nonce.length < NONCE_LENGTH) {
        throw new CloisterError(
          "nvidia.simulated.input",
          `The nonce is ${nonce.length} bytes; the SPDM nonce is ${NONCE_LENGTH}.`,
        );
      }
      const evidence = await signGpuEvidence(
        { nonce: nonce.slice(0, NONCE_LENGTH), blocks, opaque },
        privateKey,
      );
      // It stands in for a GPU in CC mode; real GPUs do not sign their mode either.
      return { evidence, certificates: utf8(chainPem), ccMode: "on" };
    },
    async exportPrivateJwk(): Promise<JsonWebKey> {
      return crypto.subtle.exportKey("jwk", privateKey);
    },
  };
}

async function measurementBlocks(
  measurements: Readonly<Record<number, string>> | undefined,
): Promise<GpuMeasurementInput[]> {
  if (measurements === undefined) {
    return Promise.all(
      Array.from({ length: HOPPER_MEASUREMENTS }, async (_, i) => ({
        index: i + 1,
        value: new Uint8Array(
          await crypto.subtle.digest(
            "SHA-384",
            asBufferSource(utf8(`Cloister simulated GPU measurement ${i + 1}`)),
          ),
        ),
      })),
    );
  }
  return Object.entries(measurements).map(([index, hex]) => {
    const value = fromHex(hex);
    if (value === undefined || value.length === 0) {
      throw new CloisterError(
        "nvidia.simulated.input",
        `Simulated measurement ${index} is not a non-empty hex value.`,
      );
    }
    return { index: Number(index), value };
  });
}

async function importPrivateKey(jwk: JsonWebKey): Promise<CryptoKey> {
  const invalid = new CloisterError(
    "nvidia.simulated.key",
    "The simulated GPU's key is not an ECDSA P-384 private JWK.",
  );
  if (jwk.kty !== "EC" || jwk.crv !== "P-384" || typeof jwk.d !== "string") throw invalid;
  try {
    return await crypto.subtle.importKey("jwk", jwk, P384, true, ["sign"]);
  } catch {
    throw invalid;
  }
}

/** Whether the private key's public half is the one the leaf certifies. */
async function sameKey(privateKey: CryptoKey, leaf: X509Certificate): Promise<boolean> {
  const mine = await crypto.subtle.exportKey("jwk", privateKey);
  try {
    const leafKey = await crypto.subtle.importKey("spki", leaf.publicKey.rawData, P384, true, [
      "verify",
    ]);
    const theirs = await crypto.subtle.exportKey("jwk", leafKey);
    return mine.x === theirs.x && mine.y === theirs.y;
  } catch {
    return false;
  }
}
