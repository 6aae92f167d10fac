/** The plain-text tables benches print to stdout. */

/** A figure with as many decimals as it deserves: none from 100 up, one below; "-" for none. */
export function fixed(value: number | null): string {
  if (value === null || Number.isNaN(value)) return "-";
  return value.toFixed(Math.abs(value) >= 100 ? 0 : 1);
}

/** Columns padded to their widest cell: the first `left` left-aligned, the others right-aligned. */
export function table(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  left = 1,
): string {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  return all
    .map((row) =>
      widths
        .map((w, i) => (i < left ? (row[i] ?? "").padEnd(w) : (row[i] ?? "").padStart(w)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
