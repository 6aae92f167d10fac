/**
 * Collateral texts that differ on every sample yet say the same thing, for the collateral-cold
 * mode: the sample number written in JSON whitespace right after the opening brace. No signed
 * byte moves (Intel's signatures cover the `tcb_info` and `qe_identity` strings, not the
 * document around them), so every text still verifies, but no two are equal: a cache keyed by
 * the collateral's text (Cloister's parsed-bundle cache) never hits.
 */

/** What the cold variation is, for the result file. */
export const COLD_VARIATION =
  "the sample number in binary as JSON whitespace (space = 0, tab = 1, then a newline) after the collateral's opening brace: a distinct text per sample, no signed byte changed";

export function coldCollateralText(text: string, sample: number): string {
  const open = text.indexOf("{");
  if (open < 0) throw new Error("The collateral is not a JSON object.");
  const mark = sample.toString(2).replaceAll("0", " ").replaceAll("1", "\t");
  return `${text.slice(0, open + 1)}${mark}\n${text.slice(open + 1)}`;
}
