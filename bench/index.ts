/**
 * `npm run bench [-- <filter>...]`: runs every benchmark in bench/ (each in its own process, so
 * backends and native kernels do not leak between them). Each prints its own numbers as ratios
 * against a reference measured in the same run.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const filters = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const benches = readdirSync("bench")
  .filter((name) => name.endsWith(".ts") && name !== "index.ts")
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
  .sort();
if (benches.length === 0) {
  console.error(`no benchmark matches ${filters.join(", ")}`);
  process.exit(1);
}
let failed = 0;
for (const name of benches) {
  console.log(`\n=== bench/${name} ===`);
  const started = Date.now();
  const result = spawnSync(process.execPath, ["--import", "tsx", join("bench", name)], { stdio: "inherit" });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) failed++;
  console.log(`=== bench/${name}: ${result.status === 0 ? "done" : "FAILED"} in ${seconds} s ===`);
}
process.exit(failed ? 1 : 0);
