import { fromBase64Url, toBase64Url } from "../bytes.js";

/**
 * Standard base64 as protobuf JSON writes bytes (padding, `+` and `/`). Decoding also takes the
 * URL-safe alphabet and missing padding, as protobuf JSON readers do, but only the canonical
 * encoding of each byte string: unused trailing bits must be zero, so that no two texts decode
 * to the same bytes and a changed character always changes what is verified.
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  const url = text.replaceAll("+", "-").replaceAll("/", "_");
  const bytes = fromBase64Url(url);
  if (bytes === undefined) return undefined;
  return toBase64Url(bytes) === url.replace(/=+$/, "") ? bytes : undefined;
}

export function encodeBase64(bytes: Uint8Array): string {
  const url = toBase64Url(bytes).replaceAll("-", "+").replaceAll("_", "/");
  return url + "=".repeat((4 - (url.length % 4)) % 4);
}
