/**
 * An NVIDIA Reference Integrity Manifest (RIM): a SWID tag (ISO/IEC 19770-2) in the TCG RIM
 * information model, signed with XML-DSig, that lists the golden SPDM measurements of one
 * driver or one VBIOS build. NVIDIA publishes one per driver version and one per VBIOS version;
 * a GPU is appraised against both together.
 */

/** The digest algorithms a RIM names by its hash-attribute namespace (xmlenc#sha256 / #sha384 / #sha512). */
export type RimHashAlgorithm = "sha256" | "sha384" | "sha512";

/** One `Resource type="Measurement"` of the payload. */
export interface RimMeasurement {
  /**
   * The RIM's own index, counted from 0. It names the SPDM measurement block with index
   * `index + 1` (SPDM numbers blocks from 1).
   */
  readonly index: number;
  /** Inactive entries are placeholders: NVIDIA compares active ones only. */
  readonly active: boolean;
  /** NVIDIA's label, e.g. "HashedMeasurement_32_GSP"; informative only. */
  readonly name: string;
  /** The digest length in bytes that the runtime measurement must have. */
  readonly size: number;
  readonly algorithm: RimHashAlgorithm;
  /** The accepted values, lower-case hex, each `size` bytes; the runtime value must equal one. */
  readonly alternatives: readonly string[];
}

/** A RIM's content, typed. Built only from XML whose signature has been checked. */
export interface Rim {
  /** The SWID tagId (NVIDIA: a hex identifier of this manifest). */
  readonly tagId: string;
  /** `Meta/@product`, e.g. "GH100". */
  readonly product: string;
  /**
   * `Meta/@colloquialVersion`, lower-cased as NVIDIA compares it: the driver version (e.g.
   * "545.00") for a driver RIM, the VBIOS version (e.g. "96.00.5e.00.01") for a VBIOS RIM.
   */
  readonly firmwareVersion: string;
  /** The colloquialVersion exactly as written. */
  readonly colloquialVersion: string;
  /** `Meta/@edition`, e.g. "GPU". */
  readonly edition: string;
  /** `Meta/@revision`, e.g. "r1". */
  readonly revision: string;
  /** Every measurement entry, ordered by index; indexes are unique. */
  readonly measurements: readonly RimMeasurement[];
}

/** The attribute strings of a RIM as an XML reader finds them, before any checking. */
export interface RawRim {
  readonly tagId: string | undefined;
  readonly product: string | undefined;
  readonly colloquialVersion: string | undefined;
  readonly edition: string | undefined;
  readonly revision: string | undefined;
  readonly measurements: readonly RawRimMeasurement[];
}

export interface RawRimMeasurement {
  readonly index: string | undefined;
  readonly active: string | undefined;
  readonly alternatives: string | undefined;
  readonly name: string | undefined;
  readonly size: string | undefined;
  /** The namespace URI of the `Hash<i>` attributes, which names the digest algorithm. */
  readonly hashNamespace: string | undefined;
  /** `Hash0`, `Hash1`, … by their local name. */
  readonly hashes: Readonly<Record<string, string>>;
}

/** The signing chain a RIM was verified with. */
export interface RimSigner {
  /** Subject of the certificate whose key signed the RIM, e.g. "CN=HCC RIM L4 Signer, …". */
  readonly subject: string;
  /** The pinned root the chain ends at, with the SHA-256 fingerprint of its DER. */
  readonly anchor: { readonly name: string; readonly fingerprint: string };
  /** The earliest notAfter over the chain: when this RIM stops verifying. */
  readonly expires: Date;
}

/** A RIM whose XML signature verified under a certificate chaining to the pinned NVIDIA RIM root. */
export interface VerifiedRim {
  readonly rim: Rim;
  readonly signer: RimSigner;
}

/**
 * Verifies a RIM document. XML canonicalisation and XML-DSig need an XML library that
 * @cloister/core does not carry, so the implementation lives with the caller (the Node one is
 * @cloister/client's `nodeRimVerifier`). An implementation throws `ParseError`
 * `nvidia.rim.malformed` for a document it cannot read, and `VerificationError`
 * `nvidia.rim.signature`, `nvidia.rim.chain` or `nvidia.rim.expired`; it reads no clock.
 */
export interface RimVerifier {
  verify(xml: string, options: { readonly now: Date }): Promise<VerifiedRim>;
}
