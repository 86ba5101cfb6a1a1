/** Accuracy with Wilson score intervals, per split, and the depth × length heatmap of a result. */
import { heatmap, type Figure } from "../display/index.js";
import { LENGTH_BUCKETS } from "./arithmetic.js";
import type { EvalResult, SampleResult } from "./structs.js";

/** z for a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

/**
 * The Wilson score interval for `successes` out of `n`: unlike p ± z·sqrt(p(1−p)/n) it stays inside
 * [0, 1] and is not zero-width at 0 or n successes, which matters for small splits.
 */
export function wilsonInterval(successes: number, n: number, z = Z95): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export interface SplitAccuracy {
  split: string;
  n: number;
  correct: number;
  unparsed: number;
  accuracy: number;
  low: number;
  high: number;
}

/** Accuracy per value of one split (e.g. "depth"), in natural order ("2" before "10"). */
export function accuracyBySplit(result: EvalResult | SampleResult[], split: string): SplitAccuracy[] {
  const groups = new Map<string, SampleResult[]>();
  for (const r of resultsOf(result)) {
    const key = splitOf(r, split) ?? "(none)";
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => naturalCompare(a, b))
    .map(([key, rs]) => {
      const correct = rs.filter((r) => r.score === 1).length;
      return {
        split: key,
        n: rs.length,
        correct,
        unparsed: rs.filter((r) => r.output_parsed === null).length,
        accuracy: correct / rs.length,
        ...wilsonInterval(correct, rs.length),
      };
    });
}

export interface ArithmeticHeatmapOptions {
  /** Columns: expression length (default) or the operator applied last. */
  columns?: "length" | "operator";
  title?: string;
}

/** Accuracy by depth (rows) × length or operator (columns); each cell shows accuracy and its n. */
export function arithmeticHeatmap(result: EvalResult | SampleResult[], options: ArithmeticHeatmapOptions = {}): Figure {
  const by = options.columns ?? "length";
  const rs = resultsOf(result);
  const depths = [...new Set(rs.map((r) => splitOf(r, "depth")))].filter((d): d is string => d !== undefined).sort(naturalCompare);
  const present = new Set(rs.map((r) => splitOf(r, by)).filter((c): c is string => c !== undefined));
  const columns = by === "length" ? LENGTH_BUCKETS.filter((c) => present.has(c)) : [...present].sort();
  const z: number[][] = [];
  const text: string[][] = [];
  for (const d of depths) {
    const row: number[] = [];
    const rowText: string[] = [];
    for (const c of columns) {
      const cell = rs.filter((r) => splitOf(r, "depth") === d && splitOf(r, by) === c);
      const correct = cell.filter((r) => r.score === 1).length;
      row.push(cell.length ? correct / cell.length : NaN);
      rowText.push(cell.length ? `${Math.round((100 * correct) / cell.length)}%<br>n=${cell.length}` : "");
    }
    z.push(row);
    text.push(rowText);
  }
  const figure = heatmap(
    z.map((row) => row.map((v) => (Number.isNaN(v) ? (null as unknown as number) : v))), // null: no sample there, plotly leaves the cell empty
    { x: columns, y: depths.map((d) => `depth ${d}`), text, zmin: 0, zmax: 1, textSize: 10, height: 80 + 40 * depths.length,
      title: options.title ?? `accuracy by depth × ${by === "length" ? "number of operations" : "last operator"}` },
  );
  return figure;
}

function resultsOf(result: EvalResult | SampleResult[]): SampleResult[] {
  return Array.isArray(result) ? result : result.sample_results;
}

/** A result's value of one split; undefined without it (or without a sample, which Evalugator allows). */
function splitOf(result: SampleResult, split: string): string | undefined {
  return result.sample?.splits[split];
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}
