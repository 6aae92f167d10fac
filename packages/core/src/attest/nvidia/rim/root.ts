import { CloisterError } from "../../../errors.js";
import { fingerprint, parseCertificates } from "../../pki/certificates.js";
import type { X509Certificate } from "../../pki/x509.js";

/**
 * The NVIDIA RIM signing root ("NVIDIA CoRIM signing Root CA", P-384, valid 2023-03-16 to
 * 2053-03-08), as nvtrust's local GPU verifier ships it (verifier_RIM_root.pem). Embedded so
 * that no RIM, server or network can substitute it; the SHA-256 of its DER is written down
 * independently of the PEM, so that an edit to either is caught at first use.
 */

export const NVIDIA_RIM_ROOT_NAME = "NVIDIA CoRIM signing Root CA";

export const NVIDIA_RIM_ROOT_SHA256 =
  "12977b5115acb0381179279fffeb5a8c4d264971ebb32298023a465fa41df5d1";

const PEM = `-----BEGIN CERTIFICATE-----
MIICKTCCAbCgAwIBAgIQRdrjoA5QN73fh1N17LXicDAKBggqhkjOPQQDAzBFMQsw
CQYDVQQGEwJVUzEPMA0GA1UECgwGTlZJRElBMSUwIwYDVQQDDBxOVklESUEgQ29S
SU0gc2lnbmluZyBSb290IENBMCAXDTIzMDMxNjE1MzczNFoYDzIwNTMwMzA4MTUz
NzM0WjBFMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGTlZJRElBMSUwIwYDVQQDDBxO
VklESUEgQ29SSU0gc2lnbmluZyBSb290IENBMHYwEAYHKoZIzj0CAQYFK4EEACID
YgAEuECyi9vNM+Iw2lfUzyBldHAwaC1HF7TCgp12QcEyUTm3Tagxwr48d55+K2VI
lWYIDk7NlAIQdcV/Ff7euGLI+Qauj93HsSI4WX298PpW54RTgz9tC+Q684caR/BX
WEeZo2MwYTAdBgNVHQ4EFgQUpaXrOPK4ZDAk08DBskn594zeZjAwHwYDVR0jBBgw
FoAUpaXrOPK4ZDAk08DBskn594zeZjAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8B
Af8EBAMCAQYwCgYIKoZIzj0EAwMDZwAwZAIwHGDyscDP6ihHqRvZlI3eqZ4YkvjE
1duaN84tAHRVgxVMvNrp5Tnom3idHYGW/dskAjATvjIx6VzHm/4e2GiZAyZEIUBD
OKPzp5ei/A0iUZpdvngenDwV8Qa/wGdiTmJ7Bp4=
-----END CERTIFICATE-----`;

let root: X509Certificate | undefined;

export function nvidiaRimRoot(): X509Certificate {
  if (root === undefined) {
    const [certificate] = parseCertificates(PEM, NVIDIA_RIM_ROOT_NAME);
    if (certificate === undefined || fingerprint(certificate) !== NVIDIA_RIM_ROOT_SHA256) {
      throw new CloisterError(
        "nvidia.rim.pinned_root",
        "The embedded NVIDIA RIM root does not match its pinned SHA-256 fingerprint.",
      );
    }
    root = certificate;
  }
  return root;
}
