import { heatmap, type Figure, type HeatmapOptions } from "../../display/index.js";
import { toRows } from "./counts.js";
import type { CharVocab } from "./vocab.js";

export interface BigramHeatmapOptions extends HeatmapOptions {
  /** Label each cell with its pair and value (default); false for colour only, e.g. two side by side. */
  annotate?: boolean;
  /** How a cell's value is written (default: integers as they are, fractions with 2 decimals). */
  format?: (value: number) => string;
}

/** The lecture's picture of a bigram matrix: one cell per (previous, next) character pair. */
export function bigramHeatmap(values: ArrayLike<number>, vocab: CharVocab, options: BigramHeatmapOptions = {}): Figure {
  const { annotate = true, format = defaultFormat, ...heatmapOptions } = options;
  const z = toRows(values, vocab.size);
  const label = (a: number, b: number, v: number) => `${vocab.decode(a)}${vocab.decode(b)}<br>${format(v)}`;
  return heatmap(z, {
    x: vocab.chars,
    y: vocab.chars,
    text: annotate ? z.map((row, a) => row.map((v, b) => label(a, b, v))) : undefined,
    width: 800,
    height: 800,
    ...heatmapOptions,
  });
}

function defaultFormat(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}
