/** `npm run data [-- name ...] [--quiet]`: fetch and verify datasets into data/ (all but the optional ones by default). */
import { defaultDatasets, ensureDataset } from "../lib/data/index.js";

const args = process.argv.slice(2);
const quiet = args.includes("--quiet");
const names = args.filter((a) => !a.startsWith("-"));
for (const name of names.length ? names : defaultDatasets()) {
  const path = await ensureDataset(name, { quiet });
  if (!quiet) console.log(`${name.padEnd(16)} ok  ${path}`);
}
