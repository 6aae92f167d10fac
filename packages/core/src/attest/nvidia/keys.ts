import type { X509Certificate } from "../pki/x509.js";

/** The certificate's key for ECDSA P-384, the only curve NVIDIA device chains use; else undefined. */
export async function p384Key(certificate: X509Certificate): Promise<CryptoKey | undefined> {
  try {
    return await crypto.subtle.importKey(
      "spki",
      certificate.publicKey.rawData,
      { name: "ECDSA", namedCurve: "P-384" },
      false,
      ["verify"],
    );
  } catch {
    return undefined;
  }
}
