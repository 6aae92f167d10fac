import { AsnConvert } from "@peculiar/asn1-schema";
import { id_ce_subjectAltName, SubjectAlternativeName } from "@peculiar/asn1-x509";
import * as asn1js from "asn1js";
import type { X509Certificate } from "../pki/x509.js";

export type NvidiaArchitecture = "HOPPER" | "BLACKWELL" | "LS10";

/** What the device signing certificate says the device is. */
export interface NvidiaDevice {
  readonly architecture: NvidiaArchitecture;
  /** The chip the certificate names, e.g. "GH100" or "LS_10". */
  readonly chip: string;
  readonly kind: "gpu" | "switch";
  /** The subject's serialNumber attribute (NVIDIA puts the key identifier there). */
  readonly serial?: string;
  /** NVIDIA's device identity from the subjectAltName, e.g. "NVIDIA:GH100:48B02D92494BADF4". */
  readonly ueid?: string;
}

/** NVIDIA's own otherName type for the device identity in subjectAltName. */
const NVIDIA_DEVICE_ID = "1.3.6.1.4.1.412.274.1";

/**
 * The chip comes from the leaf's common name ("GH100 A01 GSP FMC LF", "LS_10 A01 FSP FMC LF"):
 * signed by the chain, unlike the "arch" a collector writes next to the evidence.
 */
const CHIPS: readonly {
  pattern: RegExp;
  architecture: NvidiaArchitecture;
  kind: "gpu" | "switch";
}[] = [
  { pattern: /^(GH1\d\d) /, architecture: "HOPPER", kind: "gpu" },
  { pattern: /^(GB[12]\d\d) /, architecture: "BLACKWELL", kind: "gpu" },
  { pattern: /^(LS_10) /, architecture: "LS10", kind: "switch" },
];

export function deviceOf(leaf: X509Certificate): NvidiaDevice | undefined {
  const cn = leaf.subjectName.getField("CN")[0] ?? "";
  for (const { pattern, architecture, kind } of CHIPS) {
    const match = pattern.exec(cn);
    if (match === null) continue;
    const serial = leaf.subjectName.getField("2.5.4.5")[0];
    const ueid = deviceId(leaf);
    return {
      architecture,
      chip: match[1] as string,
      kind,
      ...(serial === undefined ? {} : { serial }),
      ...(ueid === undefined ? {} : { ueid }),
    };
  }
  return undefined;
}

function deviceId(leaf: X509Certificate): string | undefined {
  const extension = leaf.getExtension(id_ce_subjectAltName);
  if (extension === null) return undefined;
  try {
    for (const name of AsnConvert.parse(extension.value, SubjectAlternativeName)) {
      if (name.otherName?.typeId !== NVIDIA_DEVICE_ID) continue;
      const inner = asn1js.fromBER(name.otherName.value).result;
      if (inner instanceof asn1js.Utf8String || inner instanceof asn1js.PrintableString) {
        return inner.valueBlock.value;
      }
    }
  } catch {
    // A subjectAltName that does not parse names no device identity.
  }
  return undefined;
}
