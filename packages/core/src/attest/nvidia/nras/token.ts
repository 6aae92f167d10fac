import { ParseError } from "../../../errors.js";

/**
 * NVIDIA's Remote Attestation Service (NRAS) answers a GPU attestation with a "detached EAT":
 * a JSON array `[["JWT", overall], {"GPU-0": jwt, "GPU-1": jwt, …}]`. The overall JWT carries
 * the overall result, the nonce and `submods` (one entry per GPU); each GPU's detached JWT
 * carries that GPU's appraisal claims. Switch attestation has the same shape with "SWITCH-n"
 * keys.
 */

export const NRAS_MALFORMED = "nvidia.nras.malformed";

export interface NrasEat {
  /** The overall attestation result, a compact JWS. */
  readonly overall: string;
  /** Each submodule's detached claims token by its name ("GPU-0", …), in the order given. */
  readonly detached: ReadonlyMap<string, string>;
}

/** The NRAS response body as text, or already parsed from JSON. */
export function parseNrasToken(input: string | unknown): NrasEat {
  let value: unknown = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch {
      throw new ParseError(NRAS_MALFORMED, "NRAS token", "is not JSON");
    }
  }
  if (!Array.isArray(value) || value.length !== 2) {
    throw new ParseError(
      NRAS_MALFORMED,
      "NRAS token",
      'must be a two-element array [["JWT", overall], {detached tokens}]',
    );
  }
  const [head, submods] = value as [unknown, unknown];
  if (!Array.isArray(head) || head.length !== 2 || head[0] !== "JWT" || !isJws(head[1])) {
    throw new ParseError(NRAS_MALFORMED, "NRAS token[0]", 'must be ["JWT", "<compact JWS>"]');
  }
  if (typeof submods !== "object" || submods === null || Array.isArray(submods)) {
    throw new ParseError(NRAS_MALFORMED, "NRAS token[1]", "must be an object of detached tokens");
  }
  const detached = new Map<string, string>();
  for (const [name, token] of Object.entries(submods)) {
    if (!isJws(token)) {
      throw new ParseError(
        NRAS_MALFORMED,
        `NRAS token[1].${name.slice(0, 40)}`,
        "is not a compact JWS",
      );
    }
    detached.set(name, token);
  }
  if (detached.size === 0) {
    throw new ParseError(NRAS_MALFORMED, "NRAS token[1]", "holds no detached tokens");
  }
  return { overall: head[1] as string, detached };
}

function isJws(value: unknown): value is string {
  return typeof value === "string" && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(value);
}
