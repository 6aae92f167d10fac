/**
 * The names under which SEV-SNP evidence and its collateral travel (in attestation bundles, in
 * the configfs-tsm provider, on the command line). Producer and verifier must agree on them.
 */

/** The raw 1184-byte ATTESTATION_REPORT, as configfs-tsm `outblob` returns it. */
export const SNP_REPORT_FORMAT = "snp-report";

/**
 * An Azure confidential VM's evidence: the HCL report (SNP report plus runtime data) alone or
 * wrapped in JSON together with the vTPM quote that carries the nonce.
 */
export const AZURE_SNP_VTPM_FORMAT = "azure-snp-vtpm";

export const SNP_COLLATERAL = {
  /** The GHCB extended-report certificate table (configfs-tsm `auxblob`). */
  certTable: "cert_table",
  /** VCEK or VLEK (and optionally the ASK/ARK) as DER or concatenated PEM. */
  certificates: "certificates",
  /** AMD's CRL for the product, DER or PEM. Without it revocation is reported as unknown. */
  crl: "crl",
} as const;
