/**
 * Epoch AI's extraction of Chinchilla's figure 4 (github.com/epoch-research/analyzing-chinchilla,
 * data/svg_extracted_data.csv) and the numbers their replication reports for it.
 */
import pl from "nodejs-polars";
import { ensureDataset } from "../data/load.js";
import type { ChinchillaParams, LossPoint } from "./chinchilla.js";

/**
 * Besiroglu et al. (2024), "Chinchilla Scaling: A replication attempt", table 1: the fit with the
 * five highest-loss points excluded, and its bootstrap standard errors.
 */
export const EPOCH_CHINCHILLA_FIT: { estimate: ChinchillaParams; standardError: ChinchillaParams } = {
  estimate: { E: 1.8172, A: 482.01, B: 2085.43, alpha: 0.3478, beta: 0.3658 },
  standardError: { E: 0.03, A: 124.58, B: 1293.23, alpha: 0.02, beta: 0.02 },
};

/** Hoffmann et al.'s own published fit, for comparison. */
export const HOFFMANN_CHINCHILLA_FIT: ChinchillaParams = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };

/**
 * The 245 points as (N, D, loss), D = FLOP / (6·N). `excludeHighestLoss` drops that many points
 * with the largest loss (Epoch drops 5).
 */
export async function loadChinchillaPoints(options: { excludeHighestLoss?: number } = {}): Promise<LossPoint[]> {
  const path = await ensureDataset("chinchilla", { quiet: true });
  const df = pl.readCSV(path);
  for (const column of ["Model Size", "Training FLOP", "loss"]) {
    if (!df.columns.includes(column)) throw new Error(`${path}: expected a column "${column}", found ${df.columns.join(", ")}`);
  }
  const n = df.getColumn("Model Size").toArray() as number[];
  const flops = df.getColumn("Training FLOP").toArray() as number[];
  const loss = df.getColumn("loss").toArray() as number[];
  const points = n.map((size, i) => ({ n: size, d: flops[i] / (6 * size), loss: loss[i] }));
  const drop = options.excludeHighestLoss ?? 0;
  return points
    .map((p, i) => ({ p, i }))
    .sort((x, y) => y.p.loss - x.p.loss)
    .slice(drop)
    .sort((x, y) => x.i - y.i)
    .map((x) => x.p);
}
