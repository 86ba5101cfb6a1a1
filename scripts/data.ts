/** `npm run data [-- name ...]`: fetch and verify datasets into data/ (all of them by default). */
import { DATASETS, ensureDataset } from "../lib/data/index.js";

const names = process.argv.slice(2).filter((a) => !a.startsWith("-"));
for (const name of names.length ? names : Object.keys(DATASETS)) {
  const path = await ensureDataset(name);
  console.log(`${name.padEnd(16)} ok  ${path}`);
}
