import { sha256 } from "@hpke/common";
import { AsnConvert } from "@peculiar/asn1-schema";
import { BasicConstraints, id_ce_basicConstraints } from "@peculiar/asn1-x509";
import { toHex } from "../../bytes.js";
import { CloisterError } from "../../errors.js";
import { fail, pass, short, warn } from "../checks.js";
import { certificateDers, fingerprint, parseDer, signedBy } from "../pki/certificates.js";
import type { X509Certificate } from "../pki/x509.js";
import type { Check } from "../types.js";
import { deviceOf, type NvidiaDevice } from "./device.js";
import { p384Key } from "./keys.js";
import { NVIDIA_DEVICE_ROOT_NAME, NVIDIA_DEVICE_ROOT_SHA256, nvidiaDeviceRoot } from "./roots.js";

/** TCG DICE TcbInfo: NVIDIA puts the booted firmware's SHA-384 in its last 48 bytes. */
const DICE_TCB_INFO = "2.23.133.5.4.1";
const FWID_LENGTH = 48;

export interface GpuChainOptions {
  /** The verification time: every certificate must be valid then. */
  readonly now: Date;
  /** The FWID the evidence reports (lower-case hex); undefined where the device reports none. */
  readonly fwid?: string;
  /**
   * Roots of simulated GPUs (PEM) that the caller accepts, for development only. There are none
   * by default: a chain ending at a simulated root verifies only when that root is listed here,
   * and then carries the warn check nvidia.simulated, so no verdict on it can be affirming.
   */
  readonly simulatedRoots?: readonly string[];
}

/** The root a chain links to: the pinned NVIDIA root, or a simulated root the caller listed. */
export interface GpuTrustAnchor {
  readonly name: string;
  /** SHA-256 of the root's DER, lower-case hex. */
  readonly fingerprint: string;
  readonly simulated: boolean;
}

export interface GpuChainResult {
  readonly checks: readonly Check[];
  /** The first certificate, when the chain has one that is not the root. */
  readonly leaf?: X509Certificate;
  /** The FWID in the leaf, when it has the DICE extension. */
  readonly leafFwid?: string;
  readonly device?: NvidiaDevice;
  /** Present when every link up to a trusted root verified. */
  readonly trustAnchor?: GpuTrustAnchor;
  /** The verified chain, leaf first, ending at that root: present with trustAnchor. */
  readonly certificates?: readonly X509Certificate[];
}

/**
 * A device identity chain, leaf first, ending at the pinned NVIDIA Device Identity CA (as the
 * driver and NSCQ return it: device leaf, BROM, provisioner ICA, architecture identity, root).
 * Each certificate must be issued and signed by the next, which must be a CA; the last must be
 * the pinned root itself. Failures are fail checks; only input that is not certificates throws.
 */
export async function verifyGpuCertChain(
  certChain: Uint8Array | string,
  options: GpuChainOptions,
): Promise<GpuChainResult> {
  if (Number.isNaN(options.now.getTime())) {
    throw new CloisterError("verify.now", "The verification time is not a valid date.");
  }
  const simulated = simulatedAnchors(options.simulatedRoots ?? []);
  const certificates = withRoot(parseChain(certChain, "the NVIDIA certificate chain"), simulated);
  if (certificates.length < 2) {
    return {
      checks: [
        fail(
          "nvidia.chain.too_short",
          `The certificate chain holds ${certificates.length} certificate; it must hold at least the device's signing certificate and the root.`,
        ),
      ],
    };
  }
  const leaf = certificates[0] as X509Certificate;
  const link = await linkCheck(certificates, simulated);
  const checks: Check[] = [link.check, validityCheck(certificates, options.now)];
  if (link.anchor?.simulated === true) {
    checks.push(
      warn(
        "nvidia.simulated",
        `INSECURE: simulated GPU. The chain ends at ${link.anchor.name} (fingerprint ${short(link.anchor.fingerprint)}), which the caller pinned: whoever holds its key can sign any measurements, so no GPU hardware is attested.`,
      ),
    );
  }
  const device = deviceOf(leaf);
  checks.push(
    device === undefined
      ? fail(
          "nvidia.device.model",
          `The signing certificate ${JSON.stringify(commonName(leaf).slice(0, 80))} is not one of a known NVIDIA GPU or NVSwitch.`,
        )
      : pass(
          "nvidia.device.model",
          `The signing certificate is a ${device.architecture} device's (${device.chip}).`,
        ),
  );
  const leafFwid = fwidOf(leaf);
  checks.push(fwidCheck(leafFwid, options.fwid));
  return {
    checks,
    leaf,
    ...(leafFwid === undefined ? {} : { leafFwid }),
    ...(device === undefined ? {} : { device }),
    ...(link.anchor === undefined ? {} : { trustAnchor: link.anchor, certificates }),
  };
}

/** Simulated roots by fingerprint: a chain is trusted by the exact root certificate it ends at. */
function simulatedAnchors(roots: readonly string[]): ReadonlyMap<string, X509Certificate> {
  const anchors = new Map<string, X509Certificate>();
  for (const [i, pem] of roots.entries()) {
    for (const root of parseChain(pem, `simulated GPU root ${i + 1}`)) {
      anchors.set(fingerprint(root), root);
    }
  }
  return anchors;
}

function anchorOf(
  root: X509Certificate,
  simulated: ReadonlyMap<string, X509Certificate>,
): GpuTrustAnchor | undefined {
  const id = fingerprint(root);
  if (id === NVIDIA_DEVICE_ROOT_SHA256) {
    return { name: NVIDIA_DEVICE_ROOT_NAME, fingerprint: id, simulated: false };
  }
  // The name says "simulated" whatever the certificate calls itself, so that a simulated root
  // named like NVIDIA's can never be mistaken for it.
  return simulated.has(id)
    ? {
        name: `simulated GPU root ${JSON.stringify(commonName(root).slice(0, 80))}`,
        fingerprint: id,
        simulated: true,
      }
    : undefined;
}

async function linkCheck(
  certificates: readonly X509Certificate[],
  simulated: ReadonlyMap<string, X509Certificate>,
): Promise<{ readonly check: Check; readonly anchor?: GpuTrustAnchor }> {
  const last = certificates[certificates.length - 1] as X509Certificate;
  const anchor = anchorOf(last, simulated);
  if (anchor === undefined) {
    return {
      check: fail(
        "nvidia.chain.untrusted_root",
        `The chain ends at ${JSON.stringify(commonName(last).slice(0, 80))} (fingerprint ${short(fingerprint(last))}), not the pinned ${NVIDIA_DEVICE_ROOT_NAME}.`,
      ),
    };
  }
  for (let i = 0; i < certificates.length - 1; i++) {
    const subject = certificates[i] as X509Certificate;
    const issuer = certificates[i + 1] as X509Certificate;
    const name = JSON.stringify(commonName(subject).slice(0, 80));
    if (subject.issuer !== issuer.subject) {
      return {
        check: fail(
          "nvidia.chain.signature",
          `Certificate ${i + 1} ${name} is not issued by the next certificate in the chain: a certificate is missing or out of order.`,
        ),
      };
    }
    if (!isCa(issuer)) {
      return {
        check: fail(
          "nvidia.chain.signature",
          `Certificate ${i + 2} in the chain is not a CA, yet it issues ${name}.`,
        ),
      };
    }
    if (!(await issuedBy(subject, issuer))) {
      return {
        check: fail(
          "nvidia.chain.signature",
          `The signature on certificate ${i + 1} ${name} does not verify with its issuer's key.`,
        ),
      };
    }
  }
  const target = anchor.simulated
    ? `${anchor.name}, which the caller pinned as simulated`
    : `the pinned ${NVIDIA_DEVICE_ROOT_NAME}`;
  return {
    check: pass(
      "nvidia.chain",
      `The device certificate chains through ${certificates.length - 2} intermediates to ${target} (fingerprint ${short(anchor.fingerprint)}).`,
    ),
    anchor,
  };
}

/**
 * Signatures between certificates never change, and every GPU of a machine shares all but its
 * leaf, so verified links are remembered by the two certificates' fingerprints (a bounded set:
 * it is emptied when full). Failures are not remembered.
 */
const verifiedLinks = new Set<string>();
const MAX_LINKS = 512;

async function issuedBy(subject: X509Certificate, issuer: X509Certificate): Promise<boolean> {
  const link = `${fingerprint(subject)}:${fingerprint(issuer)}`;
  if (verifiedLinks.has(link)) return true;
  const key = await p384Key(issuer);
  if (key === undefined || !(await signedBy(subject, key))) return false;
  if (verifiedLinks.size >= MAX_LINKS) verifiedLinks.clear();
  verifiedLinks.add(link);
  return true;
}

/**
 * Parsing a certificate (with its canonical-DER check) costs far more than hashing it, and a
 * verifier sees the same intermediates with every GPU of a machine: parsed certificates are kept
 * by the SHA-256 of their DER (a bounded map, emptied when full).
 */
const parsed = new Map<string, X509Certificate>();
const MAX_PARSED = 256;

function parseChain(certChain: Uint8Array | string, source: string): X509Certificate[] {
  return certificateDers(certChain, source).map(({ der, name }) => {
    const id = toHex(sha256(der));
    let certificate = parsed.get(id);
    if (certificate === undefined) {
      certificate = parseDer(der, name);
      if (parsed.size >= MAX_PARSED) parsed.clear();
      parsed.set(id, certificate);
    }
    return certificate;
  });
}

/**
 * Collectors usually include the root; a chain that stops at the certificate the root issued
 * is completed with the embedded copy (or the simulated root the caller listed), so the root
 * need not travel with every evidence.
 */
function withRoot(
  certificates: readonly X509Certificate[],
  simulated: ReadonlyMap<string, X509Certificate>,
): readonly X509Certificate[] {
  const last = certificates[certificates.length - 1];
  if (
    last === undefined ||
    last.subject === last.issuer ||
    anchorOf(last, simulated) !== undefined
  ) {
    return certificates;
  }
  const root = [nvidiaDeviceRoot(), ...simulated.values()].find(
    (candidate) => candidate.subject === last.issuer,
  );
  return root === undefined ? certificates : [...certificates, root];
}

function validityCheck(certificates: readonly X509Certificate[], now: Date): Check {
  const time = now.getTime();
  for (const [i, certificate] of certificates.entries()) {
    const window = `${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}`;
    const name = `Certificate ${i + 1} ${JSON.stringify(commonName(certificate).slice(0, 80))}`;
    if (time < certificate.notBefore.getTime()) {
      return fail(
        "nvidia.chain.not_yet_valid",
        `${name} is not yet valid at ${now.toISOString()}: it is valid from ${window}.`,
      );
    }
    if (time > certificate.notAfter.getTime()) {
      return fail(
        "nvidia.chain.expired",
        `${name} expired before ${now.toISOString()}: it was valid from ${window}.`,
      );
    }
  }
  return pass(
    "nvidia.chain.validity",
    `Every certificate in the chain is within its validity period at ${now.toISOString()}.`,
  );
}

/**
 * The leaf's FWID against the one the evidence reports, as NVIDIA's verifiers compare them. A
 * leaf without the DICE extension is not a device signing certificate at all (a chain that
 * lost its leaf starts at the BROM certificate).
 */
function fwidCheck(leafFwid: string | undefined, reported: string | undefined): Check {
  if (leafFwid === undefined) {
    return fail(
      "nvidia.fwid.missing",
      `The first certificate has no FWID extension (${DICE_TCB_INFO}): it is not the device's signing certificate.`,
    );
  }
  if (reported === undefined) {
    return pass(
      "nvidia.fwid",
      `The signing certificate names FWID ${short(leafFwid)}; the evidence reports none to compare (NVSwitches do not).`,
    );
  }
  return leafFwid === reported
    ? pass(
        "nvidia.fwid",
        `The evidence's FWID ${short(reported)} matches the signing certificate's.`,
      )
    : fail(
        "nvidia.fwid",
        `The evidence reports FWID ${short(reported)} but the signing certificate names ${short(leafFwid)}.`,
      );
}

/** The last 48 bytes of the leaf's DICE TcbInfo extension, lower-case hex. */
export function fwidOf(certificate: X509Certificate): string | undefined {
  const extension = certificate.getExtension(DICE_TCB_INFO);
  if (extension === null) return undefined;
  const value = new Uint8Array(extension.value);
  return value.length < FWID_LENGTH ? undefined : toHex(value.subarray(value.length - FWID_LENGTH));
}

function isCa(certificate: X509Certificate): boolean {
  const extension = certificate.getExtension(id_ce_basicConstraints);
  if (extension === null) return false;
  try {
    return AsnConvert.parse(extension.value, BasicConstraints).cA;
  } catch {
    return false;
  }
}

export function commonName(certificate: X509Certificate): string {
  return certificate.subjectName.getField("CN").join(", ");
}
