import type { RimVerifier } from "@cloister/core";

/**
 * The RIM verifier attestation uses when the caller names none. NVIDIA's RIMs are XMLDSig
 * documents, which only the Node build can check (xml-crypto): the Node entry installs its
 * verifier here; in browsers there is none, and GPU measurements are then not compared with
 * RIMs (a policy with `nvidia.requireRims` refuses the GPUs).
 */
let installed: RimVerifier | undefined;

export function useRimVerifier(verifier: RimVerifier | undefined): void {
  installed = verifier;
}

export function defaultRimVerifier(): RimVerifier | undefined {
  return installed;
}
