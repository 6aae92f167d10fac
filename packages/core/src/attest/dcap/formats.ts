/**
 * The names under which Intel DCAP evidence and its collateral travel (attestation bundles, the
 * configfs-tsm and Gramine providers, the command line). Producer and verifier must agree.
 */

/** A TDX quote (v4 or v5), as configfs-tsm `outblob` returns it in a trust domain. */
export const TDX_QUOTE_FORMAT = "tdx-quote";

/** An SGX quote (v3), as Gramine's /dev/attestation/quote returns it inside an enclave. */
export const SGX_QUOTE_FORMAT = "sgx-quote";

export const DCAP_COLLATERAL = {
  /** TCB info, QE identity, their signing chain and the CRLs: a Cloister or dcap-qvl collateral JSON. */
  bundle: "dcap_collateral",
  /** The ACPI CCEL table of a trust domain (/sys/firmware/acpi/tables/CCEL). */
  ccelTable: "ccel_table",
  /** The event log the CCEL table points to (/sys/firmware/acpi/tables/data/CCEL). */
  ccelData: "ccel_data",
} as const;
