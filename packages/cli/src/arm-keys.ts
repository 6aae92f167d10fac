import {
  CCA_COLLATERAL,
  type Collateral,
  fromUtf8,
  PSA_COLLATERAL,
  parseCcaPlatformKeys,
  parsePsaEndorsements,
  psaInstanceIdOf,
  toHex,
} from "@cloister/core";

/**
 * `--keys` given several times: the files become one trust store of the form core reads. One
 * file passes as it is, so a single PSA key keeps its meaning of "any instance"; among several,
 * a bare PSA key is bound to the instance ID its RoT derives from it (TF-M's rule), since one
 * store cannot hold an any-instance key beside per-instance ones.
 */
export async function armKeyCollateral(
  platform: string,
  files: readonly Uint8Array[],
): Promise<Collateral> {
  const texts = files.map((bytes) => fromUtf8(bytes));
  const [only] = texts;
  if (only === undefined) return {};
  if (platform === "psa") {
    return { [PSA_COLLATERAL.endorsements]: texts.length === 1 ? only : await psaStore(texts) };
  }
  if (platform === "cca") {
    return {
      [CCA_COLLATERAL.platformKeys]:
        texts.length === 1
          ? only
          : JSON.stringify(
              texts.flatMap((text) =>
                parseCcaPlatformKeys(text).map((key) => ({
                  pkey: key.jwk,
                  ...(key.implementationId === undefined
                    ? {}
                    : { "implementation-id": key.implementationId }),
                  ...(key.instanceId === undefined ? {} : { "instance-id": key.instanceId }),
                })),
              ),
            ),
    };
  }
  return {};
}

async function psaStore(texts: readonly string[]): Promise<string> {
  const keys: { instanceId: string; key: JsonWebKey }[] = [];
  for (const text of texts) {
    const endorsements = parsePsaEndorsements(text);
    if (endorsements.kind === "store") {
      for (const [instanceId, key] of endorsements.keys) keys.push({ instanceId, key });
    } else {
      const instanceId = toHex(await psaInstanceIdOf(endorsements.key));
      keys.push({ instanceId, key: endorsements.key });
    }
  }
  return JSON.stringify({ keys });
}
