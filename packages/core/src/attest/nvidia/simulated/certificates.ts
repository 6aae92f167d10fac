import { AsnConvert } from "@peculiar/asn1-schema";
import {
  GeneralName,
  id_ce_subjectAltName,
  OtherName,
  SubjectAlternativeName,
} from "@peculiar/asn1-x509";
import * as asn1js from "asn1js";
import { toHex } from "../../../bytes.js";
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectKeyIdentifierExtension,
  type X509Certificate,
  X509CertificateGenerator,
} from "../../pki/x509.js";

/**
 * A simulated GPU's identity: a root CA and a device signing certificate shaped like NVIDIA's
 * leaf, so that the verifier reads it exactly as it reads a real one: its common name names the
 * chip, its subjectAltName the device, and its DICE TcbInfo extension the FWID.
 */

export const P384: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-384" };
const SIGNING: EcdsaParams = { name: "ECDSA", hash: "SHA-384" };
/** NVIDIA's own chains are valid to the end of 9999, and a simulated one never needs renewing. */
const NOT_AFTER = new Date("9999-12-31T23:59:59Z");
/** Back-dated a day so that a verifier whose clock runs behind still accepts the chain. */
const BACKDATE_MS = 24 * 60 * 60 * 1000;

const DICE_TCB_INFO = "2.23.133.5.4.1";
const SHA384 = "2.16.840.1.101.3.4.2.2";
const NVIDIA_DEVICE_ID = "1.3.6.1.4.1.412.274.1";
const ORGANIZATION = "Cloister simulated GPU";

export interface SimulatedChain {
  readonly root: X509Certificate;
  readonly leaf: X509Certificate;
}

/**
 * Issues the root (whose key is used once and dropped) and the device leaf for `leafKeys`. The
 * leaf's common name is NVIDIA's for the chip ("GH100 A01 GSP FMC LF"), since that is what
 * device detection reads; the organisation and device identity say "simulated".
 */
export async function issueSimulatedChain(
  chip: string,
  leafKeys: CryptoKeyPair,
  fwid: Uint8Array,
  now: Date,
): Promise<SimulatedChain> {
  const id = toHex(crypto.getRandomValues(new Uint8Array(8))).toUpperCase();
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const rootKeys = await crypto.subtle.generateKey(P384, false, ["sign", "verify"]);
  const root = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name: [
        { "2.5.4.5": [id] },
        { O: [ORGANIZATION] },
        { CN: ["Cloister Simulated GPU Root CA"] },
      ],
      notBefore,
      notAfter: NOT_AFTER,
      signingAlgorithm: SIGNING,
      keys: rootKeys,
      extensions: [
        new BasicConstraintsExtension(true, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
        await SubjectKeyIdentifierExtension.create(rootKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const leafSerial = serialNumber();
  const leaf = await X509CertificateGenerator.create(
    {
      serialNumber: leafSerial,
      subject: [
        { "2.5.4.5": [leafSerial.toUpperCase()] },
        { O: [ORGANIZATION] },
        { CN: [`${chip} A01 GSP FMC LF`] },
      ],
      issuer: root.subjectName,
      notBefore,
      notAfter: NOT_AFTER,
      signingAlgorithm: SIGNING,
      publicKey: leafKeys.publicKey,
      signingKey: rootKeys.privateKey,
      extensions: [
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
        await SubjectKeyIdentifierExtension.create(leafKeys.publicKey, false, crypto),
        await AuthorityKeyIdentifierExtension.create(rootKeys.publicKey, false, crypto),
        deviceIdExtension(`SIMULATED:${chip}:${id}`),
        await tcbInfoExtension(leafKeys.publicKey, fwid),
      ],
    },
    crypto,
  );
  return { root, leaf };
}

/** Positive and without a leading zero byte, so that its DER is canonical. */
function serialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  bytes[0] = 0x40 | ((bytes[0] as number) & 0x3f);
  return toHex(bytes);
}

/** subjectAltName with NVIDIA's device-identity otherName, which claims report as `ueid`. */
function deviceIdExtension(deviceId: string): Extension {
  const name = new GeneralName({
    otherName: new OtherName({
      typeId: NVIDIA_DEVICE_ID,
      value: new asn1js.Utf8String({ value: deviceId }).toBER(),
    }),
  });
  return new Extension(
    id_ce_subjectAltName,
    false,
    AsnConvert.serialize(new SubjectAlternativeName([name])),
  );
}

/**
 * The TcbInfo as NVIDIA's leaves carry it: SEQUENCE { version 1, a subject public key,
 * SEQUENCE { sha384, OCTET STRING fwid } }. The verifier reads only its last 48 bytes.
 */
async function tcbInfoExtension(publicKey: CryptoKey, fwid: Uint8Array): Promise<Extension> {
  const spki = asn1js.fromBER(await crypto.subtle.exportKey("spki", publicKey)).result;
  const value = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 1 }),
      spki,
      new asn1js.Sequence({
        value: [
          new asn1js.ObjectIdentifier({ value: SHA384 }),
          new asn1js.OctetString({ valueHex: fwid }),
        ],
      }),
    ],
  });
  return new Extension(DICE_TCB_INFO, false, value.toBER());
}
