import { CloisterError } from "../../errors.js";
import { fingerprint, parseCertificates } from "../pki/certificates.js";
import type { X509Certificate } from "../pki/x509.js";

/**
 * The one certificate Cloister trusts for Intel SGX and TDX: the Intel SGX Root CA (ECDSA P-256,
 * self-signed, valid 2018-05-21 to 2049-12-31), as Intel serves it at https://certificates.
 * trustedservices.intel.com/Intel_SGX_Provisioning_Certification_RootCA.pem. Every PCK
 * certificate chain and the TCB signing chain end in it. It is embedded so that no quote,
 * collateral file or server can substitute another root; the SHA-256 of its DER is written down
 * independently of the PEM, so that an edit to either is caught at first use.
 */

/** SHA-256 of the Intel SGX Root CA's DER, lower-case hex. */
export const INTEL_ROOT_FINGERPRINT =
  "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";

/** The root's subject common name, as the CAs it issued name their issuer. */
export const INTEL_ROOT_NAME = "Intel SGX Root CA";

const INTEL_ROOT_PEM = `-----BEGIN CERTIFICATE-----
MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw
aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv
cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ
BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG
A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0
aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT
AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7
1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB
uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ
MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50
ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV
Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI
KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg
AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=
-----END CERTIFICATE-----`;

let root: X509Certificate | undefined;

/** The pinned Intel SGX Root CA, parsed and held to its fingerprint at first use, then kept. */
export function intelRoot(): X509Certificate {
  if (root === undefined) {
    const [certificate] = parseCertificates(INTEL_ROOT_PEM, "the pinned Intel SGX Root CA");
    if (certificate === undefined || fingerprint(certificate) !== INTEL_ROOT_FINGERPRINT) {
      throw new CloisterError(
        "dcap.roots.corrupt",
        `The embedded Intel SGX Root CA does not hash to its pinned fingerprint ${INTEL_ROOT_FINGERPRINT}: this build of Cloister is damaged.`,
      );
    }
    root = certificate;
  }
  return root;
}

let rootKey: Promise<CryptoKey> | undefined;

/**
 * The root's public key, imported once for ECDSA P-256, the only scheme Intel signs DCAP
 * certificates and CRLs with: the key verifies nothing signed any other way.
 */
export function intelRootKey(): Promise<CryptoKey> {
  rootKey ??= importP256(intelRoot());
  return rootKey;
}

/** Whether these are exactly the pinned root's DER bytes (compared by SHA-256). */
export function isIntelRoot(certificate: X509Certificate): boolean {
  return fingerprint(certificate) === INTEL_ROOT_FINGERPRINT;
}

/** Imports a certificate's key for ECDSA P-256 verification; rejects any other key type. */
export function importP256(certificate: X509Certificate): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "spki",
    certificate.publicKey.rawData,
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
}
