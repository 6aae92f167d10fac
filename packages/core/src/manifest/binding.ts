import { concat, sha256, sha512, toHex, utf8 } from "../bytes.js";
import { canonicalJson } from "./canonical-json.js";
import { MANIFEST_SCHEMA } from "./manifest.js";

/**
 * report_data = SHA-512("cloister/manifest/v1" || JCS(manifest) [|| nonce]).
 * Computed over the manifest exactly as received (unknown fields included), so a newer server's
 * additions are bound too, and a caller who drops them cannot be fooled.
 */
export async function manifestReportData(
  manifest: unknown,
  nonce?: Uint8Array,
): Promise<Uint8Array> {
  const parts = [utf8(MANIFEST_SCHEMA), utf8(canonicalJson(manifest))];
  if (nonce !== undefined) parts.push(nonce);
  return sha512(concat(parts));
}

/** "sha256:<hex>" over the canonical manifest; receipts name the manifest by it. */
export async function manifestDigest(manifest: unknown): Promise<string> {
  return `sha256:${toHex(await sha256(utf8(canonicalJson(manifest))))}`;
}
