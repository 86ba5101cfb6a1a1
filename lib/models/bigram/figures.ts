import { heatmap, type Figure, type HeatmapOptions } from "../../display/index.js";
import { toRows } from "./counts.js";
import type { CharVocab } from "./vocab.js";

/**
 * The lecture's picture of a bigram matrix: one cell per (previous, next)
 * character pair, labelled with the pair and its value.
 */
export function bigramHeatmap(
  values: ArrayLike<number>,
  vocab: CharVocab,
  options: HeatmapOptions & { format?: (value: number) => string } = {},
): Figure {
  const size = vocab.size;
  const z = toRows(values, size);
  const format = options.format ?? ((v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2)));
  const text = z.map((row, a) => row.map((v, b) => `${vocab.decode(a)}${vocab.decode(b)}<br>${format(v)}`));
  return heatmap(z, {
    x: vocab.chars,
    y: vocab.chars,
    text,
    height: 800,
    width: 800,
    ...options,
  });
}
