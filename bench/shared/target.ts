/** A goal a bench's figure is judged against, as the result files record it. */

import { fixed } from "./table.js";

export interface Target {
  readonly name: string;
  /** The comparison and bound, e.g. "< 1000" or ">= 2". */
  readonly goal: string;
  readonly measured: number;
  readonly met: boolean;
}

/** A target as the printed report states it. */
export function targetLine(t: Target): string {
  return `Target ${t.name} ${t.goal}: ${fixed(t.measured)} — ${t.met ? "PASS" : "FAIL"}`;
}
