import { CloisterError } from "../../errors.js";
import { fingerprint, parseCertificates } from "../pki/certificates.js";
import type { X509Certificate } from "../pki/x509.js";

/**
 * The NVIDIA Device Identity CA, root of every GPU and NVSwitch identity chain (as nvtrust's
 * verifier_device_root.pem ships it). Embedded so that no caller or server can substitute it,
 * and held to its SHA-256, written down independently of the PEM, at first use.
 */
export const NVIDIA_DEVICE_ROOT_SHA256 =
  "102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48";

export const NVIDIA_DEVICE_ROOT_NAME = "NVIDIA Device Identity CA";

const NVIDIA_DEVICE_ROOT_PEM = `
-----BEGIN CERTIFICATE-----
MIICCzCCAZCgAwIBAgIQLTZwscoQBBHB/sDoKgZbVDAKBggqhkjOPQQDAzA1MSIw
IAYDVQQDDBlOVklESUEgRGV2aWNlIElkZW50aXR5IENBMQ8wDQYDVQQKDAZOVklE
SUEwIBcNMjExMTA1MDAwMDAwWhgPOTk5OTEyMzEyMzU5NTlaMDUxIjAgBgNVBAMM
GU5WSURJQSBEZXZpY2UgSWRlbnRpdHkgQ0ExDzANBgNVBAoMBk5WSURJQTB2MBAG
ByqGSM49AgEGBSuBBAAiA2IABA5MFKM7+KViZljbQSlgfky/RRnEQScW9NDZF8SX
gAW96r6u/Ve8ZggtcYpPi2BS4VFu6KfEIrhN6FcHG7WP05W+oM+hxj7nyA1r1jkB
2Ry70YfThX3Ba1zOryOP+MJ9vaNjMGEwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8B
Af8EBAMCAQYwHQYDVR0OBBYEFFeF/4PyY8xlfWi3Olv0jUrL+0lfMB8GA1UdIwQY
MBaAFFeF/4PyY8xlfWi3Olv0jUrL+0lfMAoGCCqGSM49BAMDA2kAMGYCMQCPeFM3
TASsKQVaT+8S0sO9u97PVGCpE9d/I42IT7k3UUOLSR/qvJynVOD1vQKVXf0CMQC+
EY55WYoDBvs2wPAH1Gw4LbcwUN8QCff8bFmV4ZxjCRr4WXTLFHBKjbfneGSBWwA=
-----END CERTIFICATE-----`;

let root: X509Certificate | undefined;

export function nvidiaDeviceRoot(): X509Certificate {
  if (root === undefined) {
    const [certificate] = parseCertificates(NVIDIA_DEVICE_ROOT_PEM, "the pinned NVIDIA root");
    if (certificate === undefined || fingerprint(certificate) !== NVIDIA_DEVICE_ROOT_SHA256) {
      throw new CloisterError(
        "nvidia.roots.corrupt",
        `The embedded ${NVIDIA_DEVICE_ROOT_NAME} does not hash to its pinned fingerprint: this build of Cloister is damaged.`,
      );
    }
    root = certificate;
  }
  return root;
}
