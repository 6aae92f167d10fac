import { fileURLToPath } from "node:url";

/**
 * The public test-vector corpus (real TEE evidence, RFC examples), vendored byte for byte at
 * the repository root so that tests run from any checkout. Provenance and licences are in its
 * README.md; scripts/sync-testvectors.sh refreshes it.
 */
export const TESTVECTORS = fileURLToPath(new URL("../../../../testvectors/", import.meta.url));
