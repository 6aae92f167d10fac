import { ParseError } from "../../../errors.js";
import type { RawRim, RawRimMeasurement, Rim, RimHashAlgorithm, RimMeasurement } from "./types.js";

/**
 * Turns the attribute strings an XML reader found into a typed RIM, refusing anything NVIDIA's
 * own reader would refuse or misread: a missing version, a non-numeric index, an index used
 * twice, a digest that is not hex of the declared size, fewer digests than `alternatives` says.
 */

export const RIM_MALFORMED = "nvidia.rim.malformed";

/** The xmlenc namespaces that RIMs use to name the digest algorithm of their Hash attributes. */
const HASH_NAMESPACES: Readonly<Record<string, RimHashAlgorithm>> = {
  "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
  "http://www.w3.org/2001/04/xmlenc#sha384": "sha384",
  "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
};

const DIGEST_BYTES: Readonly<Record<RimHashAlgorithm, number>> = {
  sha256: 32,
  sha384: 48,
  sha512: 64,
};

/** SPDM carries at most 254 measurement blocks, so RIM indexes run 0..253. */
const MAX_INDEX = 253;

export function buildRim(raw: RawRim): Rim {
  const colloquialVersion = required(raw.colloquialVersion, "Meta colloquialVersion");
  const measurements = raw.measurements.map((entry, i) => measurement(entry, i));
  if (measurements.length === 0) {
    throw new ParseError(RIM_MALFORMED, "Payload", "holds no measurement entries");
  }
  const seen = new Set<number>();
  for (const entry of measurements) {
    if (seen.has(entry.index)) {
      throw new ParseError(
        RIM_MALFORMED,
        "Payload",
        `lists measurement index ${entry.index} more than once`,
      );
    }
    seen.add(entry.index);
  }
  return {
    tagId: required(raw.tagId, "SoftwareIdentity tagId"),
    product: required(raw.product, "Meta product"),
    colloquialVersion,
    firmwareVersion: colloquialVersion.toLowerCase(),
    edition: raw.edition ?? "",
    revision: raw.revision ?? "",
    measurements: [...measurements].sort((a, b) => a.index - b.index),
  };
}

function measurement(raw: RawRimMeasurement, position: number): RimMeasurement {
  const field = `Measurement resource ${position + 1}`;
  const index = integer(raw.index, `${field} index`, 0, MAX_INDEX);
  const count = integer(raw.alternatives, `${field} alternatives`, 1, 64);
  const size = integer(raw.size, `${field} size`, 1, 64);
  const algorithm =
    raw.hashNamespace === undefined ? undefined : HASH_NAMESPACES[raw.hashNamespace];
  if (algorithm === undefined) {
    throw new ParseError(
      RIM_MALFORMED,
      field,
      `names no known digest algorithm (hash namespace ${JSON.stringify(raw.hashNamespace ?? "")})`,
    );
  }
  if (size !== DIGEST_BYTES[algorithm]) {
    throw new ParseError(
      RIM_MALFORMED,
      field,
      `declares size ${size}, but a ${algorithm} digest is ${DIGEST_BYTES[algorithm]} bytes`,
    );
  }
  const alternatives: string[] = [];
  for (let i = 0; i < count; i++) {
    const value = raw.hashes[`Hash${i}`];
    if (value === undefined) {
      throw new ParseError(
        RIM_MALFORMED,
        field,
        `declares ${count} alternatives but has no Hash${i}`,
      );
    }
    if (value.length !== size * 2 || !/^[0-9a-fA-F]+$/.test(value)) {
      throw new ParseError(RIM_MALFORMED, field, `Hash${i} is not ${size} bytes of hex`);
    }
    alternatives.push(value.toLowerCase());
  }
  return {
    index,
    active: boolean(raw.active, `${field} active`),
    name: raw.name ?? "",
    size,
    algorithm,
    alternatives,
  };
}

function required(value: string | undefined, field: string): string {
  if (value === undefined || value.trim() === "") {
    throw new ParseError(RIM_MALFORMED, field, "is missing or empty");
  }
  return value;
}

function integer(value: string | undefined, field: string, min: number, max: number): number {
  const n = value !== undefined && /^[0-9]{1,4}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw new ParseError(RIM_MALFORMED, field, `must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** NVIDIA writes "True"/"False"; anything else is refused rather than guessed. */
function boolean(value: string | undefined, field: string): boolean {
  const lower = value?.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  throw new ParseError(RIM_MALFORMED, field, `must be "True" or "False"`);
}
