import "../../../src/attest/pki/x509.js";
import {
  BasicConstraintsExtension,
  ExtendedKeyUsageExtension,
  Extension,
  type X509Certificate,
  X509CertificateGenerator,
} from "@peculiar/x509";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { signGpuEvidence } from "../../../src/attest/nvidia/simulated/encode.js";
import { toHex } from "../../../src/bytes.js";

/**
 * Test PKI: P-384 CAs and certificates (the GPU chain verifier reads only P-384), a GPU chain
 * root -> device identity CA -> "GH100 A01 GSP FMC LF" leaf with an FWID, and OCSP responses
 * signed by any key, built with pkijs.
 */

const P384: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-384" };
const SIGNING: EcdsaParams = { name: "ECDSA", hash: "SHA-384" };
const engine = new pkijs.CryptoEngine({ name: "test", crypto: globalThis.crypto });
export const OCSP_SIGNING = "1.3.6.1.5.5.7.3.9";

export interface Issued {
  readonly cert: X509Certificate;
  readonly keys: CryptoKeyPair;
}

let serialCounter = 0x41;
function nextSerial(): string {
  serialCounter += 1;
  return `${serialCounter.toString(16).padStart(2, "0")}${toHex(crypto.getRandomValues(new Uint8Array(8)))}`;
}

export async function issue(options: {
  readonly cn: string;
  readonly issuer?: Issued;
  readonly ca?: boolean;
  readonly eku?: readonly string[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly extensions?: readonly Extension[];
}): Promise<Issued> {
  const keys = await crypto.subtle.generateKey(P384, true, ["sign", "verify"]);
  const extensions: Extension[] = [...(options.extensions ?? [])];
  if (options.ca === true) extensions.push(new BasicConstraintsExtension(true, undefined, true));
  if (options.eku !== undefined) {
    extensions.push(new ExtendedKeyUsageExtension([...options.eku], false));
  }
  const common = {
    serialNumber: nextSerial(),
    notBefore: options.notBefore ?? new Date("2020-01-01T00:00:00Z"),
    notAfter: options.notAfter ?? new Date("2099-01-01T00:00:00Z"),
    signingAlgorithm: SIGNING,
    extensions,
  };
  const cert =
    options.issuer === undefined
      ? await X509CertificateGenerator.createSelfSigned({
          ...common,
          name: `CN=${options.cn}`,
          keys,
        })
      : await X509CertificateGenerator.create({
          ...common,
          subject: `CN=${options.cn}`,
          issuer: options.issuer.cert.subjectName,
          publicKey: keys.publicKey,
          signingKey: options.issuer.keys.privateKey,
        });
  return { cert, keys };
}

export interface GpuPki {
  readonly root: Issued;
  readonly ca: Issued;
  readonly leaf: Issued;
  readonly fwid: string;
  /** leaf, device identity CA, root (PEM). */
  readonly chainPem: string;
}

/** A GPU chain as NVIDIA's is shaped, short: root, a device identity CA, the device leaf. */
export async function gpuPki(): Promise<GpuPki> {
  const root = await issue({ cn: "Test GPU Root CA", ca: true });
  const ca = await issue({ cn: "GH100 A01 GSP BROM", ca: true, issuer: root });
  const fwidBytes = crypto.getRandomValues(new Uint8Array(48));
  const tcbInfo = new asn1js.Sequence({
    value: [new asn1js.OctetString({ valueHex: fwidBytes })],
  }).toBER();
  const leaf = await issue({
    cn: "GH100 A01 GSP FMC LF",
    issuer: ca,
    extensions: [new Extension("2.23.133.5.4.1", false, tcbInfo)],
  });
  const chainPem = [leaf, ca, root].map((i) => i.cert.toString("pem")).join("\n");
  return { root, ca, leaf, fwid: toHex(fwidBytes), chainPem };
}

/** SPDM evidence signed by the chain's leaf for `nonce` (32 bytes), with its FWID. */
export function gpuEvidence(pki: GpuPki, nonce: Uint8Array): Promise<Uint8Array> {
  return signGpuEvidence(
    {
      nonce,
      blocks: [{ index: 1, value: new Uint8Array(48).fill(7) }],
      opaque: { driverVersion: "550.90.07", vbiosVersion: "96.00.9f.00.01", fwid: pki.fwid },
    },
    pki.leaf.keys.privateKey,
  );
}

const REASONS = { keyCompromise: 1, superseded: 4, certificateHold: 6 } as const;

export interface OcspInput {
  readonly certificate: X509Certificate;
  readonly issuer: X509Certificate;
  /** Signs the response; `signerCert` is included in the response (a delegated responder). */
  readonly signer: CryptoKeyPair;
  readonly signerCert?: X509Certificate;
  readonly status: "good" | "revoked" | "unknown";
  readonly revokedAt?: Date;
  readonly reason?: keyof typeof REASONS;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly hash?: "SHA-1" | "SHA-256" | "SHA-384";
  /** Replaces the CertID's serial (hex). */
  readonly serial?: string;
  /** OCSPResponseStatus; 0 (successful) by default. */
  readonly responseStatus?: number;
}

function pk(cert: X509Certificate): pkijs.Certificate {
  return pkijs.Certificate.fromBER(cert.rawData);
}

export async function ocspResponse(input: OcspInput): Promise<Uint8Array> {
  if ((input.responseStatus ?? 0) !== 0) {
    return new Uint8Array(
      new pkijs.OCSPResponse({
        responseStatus: new asn1js.Enumerated({ value: input.responseStatus ?? 0 }),
      })
        .toSchema()
        .toBER(),
    );
  }
  const certID = new pkijs.CertID();
  await certID.createForCertificate(
    pk(input.certificate),
    { hashAlgorithm: input.hash ?? "SHA-384", issuerCertificate: pk(input.issuer) },
    engine,
  );
  if (input.serial !== undefined) {
    certID.serialNumber = new asn1js.Integer({
      valueHex: Uint8Array.from(Buffer.from(input.serial, "hex")),
    });
  }
  const single = new pkijs.SingleResponse({ certID, thisUpdate: input.thisUpdate });
  if (input.nextUpdate !== undefined) single.nextUpdate = input.nextUpdate;
  single.certStatus = certStatus(input);
  const basic = new pkijs.BasicOCSPResponse();
  basic.tbsResponseData.responderID = pk(input.signerCert ?? input.issuer).subject;
  basic.tbsResponseData.producedAt = input.thisUpdate;
  basic.tbsResponseData.responses.push(single);
  if (input.signerCert !== undefined) basic.certs = [pk(input.signerCert)];
  await basic.sign(input.signer.privateKey, "SHA-384", engine);
  return new Uint8Array(
    new pkijs.OCSPResponse({
      responseStatus: new asn1js.Enumerated({ value: 0 }),
      responseBytes: new pkijs.ResponseBytes({
        responseType: pkijs.id_PKIX_OCSP_Basic,
        response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }),
      }),
    })
      .toSchema()
      .toBER(),
  );
}

function certStatus(input: OcspInput): asn1js.BaseBlock {
  if (input.status !== "revoked") {
    return new asn1js.Primitive({
      idBlock: { tagClass: 3, tagNumber: input.status === "good" ? 0 : 2 },
    });
  }
  const value: asn1js.BaseBlock[] = [
    new asn1js.GeneralizedTime({ valueDate: input.revokedAt ?? input.thisUpdate }),
  ];
  if (input.reason !== undefined) {
    value.push(
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 0 },
        value: [new asn1js.Enumerated({ value: REASONS[input.reason] })],
      }),
    );
  }
  return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value });
}
