/**
 * Certificate collateral that defeats Cloister's chain cache while staying valid. The cache is
 * keyed by the SHA-256 of the collateral's bytes, so a "cold" verification needs bytes never seen
 * before in the process; each encoding below carries the sample number where a real producer
 * would put free-form bytes (trailing padding after a certificate table, explanatory text before
 * a PEM block), so no two samples share a key and every one parses and verifies the VCEK again.
 */

import { type Collateral, encodeCertTable } from "@cloister/core";
import type { SnpVector } from "./vectors.js";

/** How the collateral is shaped, rotating sample by sample. */
export const ENCODINGS = ["der+table", "table", "pem", "pem-chain"] as const;
export type Encoding = (typeof ENCODINGS)[number];

export const ENCODING_MEANING: Readonly<Record<Encoding, string>> = {
  "der+table":
    "certificates = the VCEK/VLEK as DER; cert_table = a GHCB certificate table holding the ASK (for a VLEK: nothing) and ARK as DER",
  table:
    "cert_table = a GHCB certificate table holding VCEK/VLEK, ASK (for a VLEK: nothing) and ARK as DER, as configfs-tsm's auxblob delivers them",
  pem: "certificates = the VCEK/VLEK alone as PEM text, 64-column lines",
  "pem-chain":
    "certificates = PEM text of VCEK/VLEK, ASK (for a VLEK: nothing), ARK in that order (AMD KDS's cert_chain after the VCEK), 76-column lines",
};

export interface ColdCollateral {
  readonly encoding: Encoding;
  readonly collateral: Collateral;
}

/** The collateral of cold sample `sample` (unique in the process) for `vector`. */
export function coldCollateral(vector: SnpVector, sample: number): ColdCollateral {
  const encoding = ENCODINGS[sample % ENCODINGS.length] as Encoding;
  const chain = [vector.intermediate, vector.ark];
  // The GHCB certificate table defines no GUID for the ASVK, so a VLEK's table holds only the ARK.
  const tableChain =
    vector.kind === "vcek" ? [{ kind: "ask", data: vector.intermediate } as const] : [];
  const ark = { kind: "ark", data: vector.ark } as const;
  switch (encoding) {
    case "der+table":
      return {
        encoding,
        collateral: {
          certificates: vector.signer,
          cert_table: padded(encodeCertTable([...tableChain, ark]), sample),
        },
      };
    case "table":
      return {
        encoding,
        collateral: {
          cert_table: padded(
            encodeCertTable([{ kind: vector.kind, data: vector.signer }, ...tableChain, ark]),
            sample,
          ),
        },
      };
    case "pem":
      return { encoding, collateral: { certificates: pem([vector.signer], 64, sample) } };
    case "pem-chain":
      return {
        encoding,
        collateral: { certificates: pem([vector.signer, ...chain], 76, sample) },
      };
  }
}

/** A table followed by `sample` + 1 zero bytes, as the kernel's page-sized buffer pads it. */
function padded(table: Uint8Array, sample: number): Uint8Array {
  const out = new Uint8Array(table.length + sample + 1);
  out.set(table);
  return out;
}

/** PEM with an explanatory line before the first block (RFC 7468, section 5.2 allows it). */
function pem(ders: readonly Uint8Array[], width: number, sample: number): string {
  const blocks = ders.map((der) => {
    const base64 = Buffer.from(der).toString("base64");
    const lines = base64.match(new RegExp(`.{1,${width}}`, "g")) ?? [];
    return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
  });
  return `Cold sample ${sample}\n${blocks.join("")}`;
}
