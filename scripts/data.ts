/** `npm run data [-- name ...] [--quiet]`: fetch and verify datasets into data/ (all but the optional ones by default). */
import { DATASETS, defaultDatasets, ensureDataset } from "../lib/data/index.js";
import { closestName, formatHelp, parseFlags, type FlagSchema } from "../lib/train/index.js";
import { UsageError, runCli } from "../lib/util/cli.js";

const FLAGS = { quiet: { type: "boolean", default: false, help: "print nothing but errors" } } satisfies FlagSchema;

runCli(async () => {
  const { values, positionals, help } = parseFlags(process.argv.slice(2), FLAGS, { positionals: "dataset names" });
  const known = Object.keys(DATASETS);
  if (help) {
    console.log(formatHelp(`npm run data -- [name ...] [--quiet]   (names: ${known.join(", ")}; default: all but the optional tinystories)`, FLAGS));
    return;
  }
  for (const name of positionals) {
    if (known.includes(name)) continue;
    const suggestion = closestName(name, known);
    throw new UsageError(`unknown dataset "${name}"${suggestion ? `; did you mean ${suggestion}?` : ""} (known: ${known.join(", ")})`);
  }
  for (const name of positionals.length ? positionals : defaultDatasets()) {
    const path = await ensureDataset(name, { quiet: values.quiet });
    if (!values.quiet) console.log(`${name.padEnd(16)} ok  ${path}`);
  }
});
