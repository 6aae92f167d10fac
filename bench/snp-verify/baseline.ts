/**
 * The baseline: the same signatures checked with node:crypto (OpenSSL) directly, no WebCrypto,
 * no @peculiar/x509, no report parser. It is "what OpenSSL alone costs": the difference between
 * a Cloister row and its baseline row is what Cloister's isomorphic path adds. It checks less
 * than Cloister does (see bench/README.md): the VCEK's TCB and hwID extensions, the pinned
 * fingerprints of supplied certificates and the claims are not looked at.
 */

import { type KeyObject, verify, X509Certificate } from "node:crypto";

/** Bytes 0x000-0x29F are signed; R and S follow, 72 bytes each, little-endian, zero-padded. */
const SIGNED_END = 0x2a0;
const COMPONENT = 72;
const P384_BYTES = 48;

export interface PinnedKeys {
  /** The ASK (or ASVK) key, once its certificate has been checked against the ARK. */
  readonly intermediate: KeyObject;
}

/**
 * What Cloister does once per process for its pinned certificates: parse the ARK and the
 * intermediate, check the ARK's self-signature and its signature on the intermediate.
 */
export function pinIntermediate(arkDer: Uint8Array, intermediateDer: Uint8Array): PinnedKeys {
  const ark = new X509Certificate(arkDer);
  const intermediate = new X509Certificate(intermediateDer);
  if (!ark.verify(ark.publicKey) || !intermediate.verify(ark.publicKey)) {
    throw new Error(`${intermediate.subject} does not chain to ${ark.subject}.`);
  }
  return { intermediate: intermediate.publicKey };
}

export interface SignerKey {
  readonly key: KeyObject;
  readonly notBefore: number;
  readonly notAfter: number;
}

/**
 * The cold path: every certificate in the collateral parsed, the VCEK/VLEK found by its subject,
 * its RSA-PSS signature checked with the pinned intermediate key, its validity window read.
 */
export function verifySigner(
  collateral: Readonly<Record<string, Uint8Array | string>>,
  pinned: PinnedKeys,
): SignerKey {
  const { cert_table: table, certificates: supplied } = collateral;
  if (typeof table === "string") throw new Error("A certificate table is binary.");
  const ders = [
    ...(table === undefined ? [] : certTableEntries(table)),
    ...(supplied === undefined ? [] : certificateDers(supplied)),
  ];
  const certificates = ders.map((der) => new X509Certificate(der));
  const signer = certificates.find((c) => /^CN=SEV-(VCEK|VLEK)$/m.test(c.subject));
  if (signer === undefined) throw new Error("The collateral holds no VCEK or VLEK.");
  if (!signer.verify(pinned.intermediate)) throw new Error("The VCEK is not signed by the ASK.");
  return {
    key: signer.publicKey,
    notBefore: Date.parse(signer.validFrom),
    notAfter: Date.parse(signer.validTo),
  };
}

/** The warm path: the report's ECDSA P-384 signature under a signer key kept from before. */
export function verifyReport(report: Uint8Array, signer: SignerKey, now: Date): boolean {
  const time = now.getTime();
  if (time < signer.notBefore || time > signer.notAfter) return false;
  const signature = new Uint8Array(2 * P384_BYTES);
  signature.set(bigEndian(report, SIGNED_END), 0);
  signature.set(bigEndian(report, SIGNED_END + COMPONENT), P384_BYTES);
  return verify(
    "sha384",
    report.subarray(0, SIGNED_END),
    { key: signer.key, dsaEncoding: "ieee-p1363" },
    signature,
  );
}

function bigEndian(report: Uint8Array, at: number): Uint8Array {
  return report.slice(at, at + P384_BYTES).reverse();
}

function certificateDers(input: Uint8Array | string): Uint8Array[] {
  if (typeof input !== "string" && input[0] === 0x30) return [input];
  const text = typeof input === "string" ? input : Buffer.from(input).toString("latin1");
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)].map(
    (m) => new Uint8Array(Buffer.from(m[1] as string, "base64")),
  );
}

/** GHCB certificate table: {GUID[16], offset u32 LE, length u32 LE}... closed by a zero entry. */
function certTableEntries(table: Uint8Array): Uint8Array[] {
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const out: Uint8Array[] = [];
  for (let at = 0; at + 24 <= table.length; at += 24) {
    const offset = view.getUint32(at + 16, true);
    const length = view.getUint32(at + 20, true);
    if (length === 0) break;
    out.push(table.subarray(offset, offset + length));
  }
  return out;
}
