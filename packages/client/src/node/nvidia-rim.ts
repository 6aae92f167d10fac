import { createHash, verify as verifySignature, X509Certificate } from "node:crypto";
import {
  buildRim,
  ParseError,
  type RawRim,
  type RawRimMeasurement,
  type RimVerifier,
  VerificationError,
  type VerifiedRim,
  verifyRimChain,
} from "@cloister/core";
import { DOMParser, type Document, type Element } from "@xmldom/xmldom";
import {
  C14nCanonicalization,
  type HashAlgorithm,
  type SignatureAlgorithm,
  SignedXml,
} from "xml-crypto";

/**
 * NVIDIA RIM verification on Node: XML parsing (@xmldom/xmldom), XML-DSig (xml-crypto) and the
 * signing chain (@cloister/core's verifyRimChain, to the pinned NVIDIA RIM root). The typed RIM
 * is read from the XML the signature covers, never from the document as received, so nothing
 * unsigned can reach a caller.
 *
 * xml-crypto lacks the three algorithms NVIDIA RIMs name; they are registered on each verifier
 * instance (never globally): ECDSA P-384 with SHA-384 over the raw r‖s signature XML-DSig uses,
 * the SHA-384 digest, and Canonical XML 1.1 mapped to the 1.0 implementation. C14N 1.1 differs
 * from 1.0 only in how xml:id, xml:base and other xml:* attributes are inherited into a
 * subtree, and the signed reference here is the whole document (URI ""), where nothing is
 * inherited: the two give the same bytes. References to anything but the whole document are
 * refused, so the mapping is never used where it could differ.
 */

const SWID = "http://standards.iso.org/iso/19770/-2/2015/schema.xsd";
const DSIG = "http://www.w3.org/2000/09/xmldsig#";
const ECDSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384";
const SHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384";
const C14N11 = "http://www.w3.org/2006/12/xml-c14n11";

const MALFORMED = "nvidia.rim.malformed";
const SIGNATURE = "nvidia.rim.signature";

class EcdsaSha384 implements SignatureAlgorithm {
  getSignature(): never {
    throw new Error("Cloister verifies RIMs; it does not sign them.");
  }

  verifySignature(material: string, key: string | Buffer, signatureValue: string): boolean {
    return verifySignature(
      "sha384",
      Buffer.from(material, "utf8"),
      { key, dsaEncoding: "ieee-p1363" },
      Buffer.from(signatureValue, "base64"),
    );
  }

  getAlgorithmName(): string {
    return ECDSA_SHA384;
  }
}

class Sha384 implements HashAlgorithm {
  getHash(xml: string): string {
    return createHash("sha384").update(xml, "utf8").digest("base64");
  }

  getAlgorithmName(): string {
    return SHA384;
  }
}

/** A RimVerifier for Node. It reads no clock: `now` is the caller's. */
export function nodeRimVerifier(): RimVerifier {
  return { verify: verifyRim };
}

async function verifyRim(xml: string, options: { readonly now: Date }): Promise<VerifiedRim> {
  const document = parse(xml, "RIM");
  const signature = onlySignature(document);
  const certificates = [...elements(signature, DSIG, "X509Certificate")].map((element, i) =>
    certificateDer(element.textContent ?? "", i),
  );
  const leaf = certificates[0];
  if (leaf === undefined) {
    throw new ParseError(MALFORMED, "KeyInfo", "carries no X509Certificate");
  }
  const signedXml = checkSignature(xml, signature, leaf);
  const signer = await verifyRimChain(certificates, options.now);
  return { rim: buildRim(rawRim(parse(signedXml, "signed RIM content"))), signer };
}

/** The canonical XML the signature covers, once it is known to cover the whole document. */
function checkSignature(xml: string, signature: Element, leaf: Uint8Array): string {
  let key: string;
  try {
    key = new X509Certificate(leaf).publicKey.export({ type: "spki", format: "pem" }).toString();
  } catch {
    throw new ParseError(MALFORMED, "KeyInfo", "first X509Certificate is not a certificate");
  }
  const verifier = new SignedXml({ publicCert: key });
  verifier.SignatureAlgorithms[ECDSA_SHA384] = EcdsaSha384;
  verifier.HashAlgorithms[SHA384] = Sha384;
  verifier.CanonicalizationAlgorithms[C14N11] = C14nCanonicalization;
  let valid = false;
  try {
    verifier.loadSignature(signature as unknown as Parameters<SignedXml["loadSignature"]>[0]);
    const references = verifier.getReferences();
    if (references.length !== 1 || references[0]?.uri !== "") {
      throw new VerificationError(
        SIGNATURE,
        'The RIM signature must reference the whole document (one Reference with URI "").',
      );
    }
    valid = verifier.checkSignature(xml);
  } catch (error) {
    if (error instanceof VerificationError) throw error;
    valid = false;
  }
  const signed = verifier.getSignedReferences();
  if (!valid || signed.length !== 1 || signed[0] === undefined) {
    throw new VerificationError(
      SIGNATURE,
      "The RIM's XML signature does not verify under its signing certificate: the RIM was altered or not signed by that key.",
    );
  }
  return signed[0];
}

function parse(xml: string, what: string): Document {
  try {
    const document = new DOMParser({
      onError: (level, message) => {
        if (level !== "warning") throw new Error(message);
      },
    }).parseFromString(xml, "text/xml");
    if (document.documentElement === null) throw new Error("no root element");
    return document;
  } catch {
    throw new ParseError(MALFORMED, what, "is not well-formed XML");
  }
}

function onlySignature(document: Document): Element {
  const signatures = [...elements(document, DSIG, "Signature")];
  const root = document.documentElement;
  const [signature] = signatures;
  if (signatures.length !== 1 || signature === undefined || signature.parentNode !== root) {
    throw new ParseError(
      MALFORMED,
      "Signature",
      `must occur exactly once, as a child of SoftwareIdentity (found ${signatures.length})`,
    );
  }
  if (root?.namespaceURI !== SWID || root.localName !== "SoftwareIdentity") {
    throw new ParseError(MALFORMED, "SoftwareIdentity", "is not the root element");
  }
  return signature;
}

function certificateDer(base64: string, i: number): Uint8Array {
  const text = base64.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    throw new ParseError(MALFORMED, `X509Certificate ${i + 1}`, "is not base64");
  }
  return new Uint8Array(Buffer.from(text, "base64"));
}

function rawRim(document: Document): RawRim {
  const root = document.documentElement;
  const meta = [...elements(document, SWID, "Meta")][0];
  return {
    tagId: root?.getAttribute("tagId") ?? undefined,
    product: meta?.getAttribute("product") ?? undefined,
    colloquialVersion: meta?.getAttribute("colloquialVersion") ?? undefined,
    edition: meta?.getAttribute("edition") ?? undefined,
    revision: meta?.getAttribute("revision") ?? undefined,
    measurements: [...elements(document, SWID, "Resource")]
      .filter((resource) => resource.getAttribute("type") === "Measurement")
      .map(rawMeasurement),
  };
}

function rawMeasurement(resource: Element): RawRimMeasurement {
  const hashes: Record<string, string> = {};
  const namespaces = new Set<string>();
  for (const attribute of [...resource.attributes]) {
    if (!/^Hash\d+$/.test(attribute.localName ?? "")) continue;
    hashes[attribute.localName as string] = attribute.value;
    namespaces.add(attribute.namespaceURI ?? "");
  }
  const attr = (name: string) =>
    resource.hasAttribute(name) ? (resource.getAttribute(name) ?? undefined) : undefined;
  return {
    index: attr("index"),
    active: attr("active"),
    alternatives: attr("alternatives"),
    name: attr("name"),
    size: attr("size"),
    // Hashes in two namespaces would mix algorithms within one entry: leave it unnamed, refused.
    hashNamespace: namespaces.size === 1 ? [...namespaces][0] : undefined,
    hashes,
  };
}

function elements(node: Document | Element, namespace: string, name: string): Element[] {
  return Array.from(node.getElementsByTagNameNS(namespace, name));
}
