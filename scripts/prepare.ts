/**
 * `npm run prepare -- --dataset tinyshakespeare|<text file> --tokenizer gpt2 [--out DIR] [--shard_tokens N] [--val_fraction F]`
 *
 * Tokenizes a corpus once with GPT-2's tokenizer into uint16 .npy shards, as build-nanogpt's
 * fineweb.py: DIR/train_000000.npy … (the first 90 % of the tokens), DIR/val_000000.npy … (the last
 * 10 %, nanoGPT's Shakespeare split) and DIR/meta.json (default DIR: data/<name>-gpt2). See
 * lib/data/shards.ts for the format. Ctrl-C stops between pieces: every shard on disk is whole
 * (atomic writes) and meta.json is written only when all are, so a stopped folder is never used.
 *
 * "prepare" is also npm's lifecycle hook, which `npm install` runs with no arguments: then (npm_command
 * is "install" or "ci", not "run") it does nothing, so installing never needs a dataset.
 */
import { existsSync } from "node:fs";
import { DATASETS } from "../lib/data/index.js";
import { prepareShards } from "../lib/data/shards.js";
import { formatHelp, parseFlags, type FlagSchema } from "../lib/train/index.js";
import { UsageError, onStopSignal, runCli } from "../lib/util/cli.js";

const FLAGS = {
  dataset: { type: "string", help: "a dataset name (tinyshakespeare, …) or the path of a UTF-8 text file" },
  tokenizer: { type: "string", choices: ["gpt2"], default: "gpt2", help: "tokenizer (GPT-2's 50,257 ids fit uint16)" },
  out: { type: "string", help: "output folder; default data/<name>-gpt2" },
  shardTokens: { type: "integer", min: 1, default: 100_000_000, help: "tokens per shard (build-nanogpt: 100M)" },
  valFraction: { type: "number", above: 0, below: 1, default: 0.1, help: "fraction of the tokens, from the end, for validation" },
} satisfies FlagSchema;

const USAGE = "npm run prepare -- --dataset NAME|FILE [--tokenizer gpt2] [--out DIR] [--shard_tokens N]   (tokenized uint16 shards for training)";

runCli(async () => {
  if (process.argv.length === 2 && process.env.npm_lifecycle_event === "prepare" && !["run", "run-script"].includes(process.env.npm_command ?? "run")) return;
  const { values, help } = parseFlags(process.argv.slice(2), FLAGS);
  if (help) {
    console.log(formatHelp(USAGE, FLAGS));
    return;
  }
  if (values.dataset === undefined) throw new UsageError("--dataset is required (a dataset name such as tinyshakespeare, or a text file)");
  if (!Object.prototype.hasOwnProperty.call(DATASETS, values.dataset) && !existsSync(values.dataset)) {
    throw new UsageError(`--dataset ${values.dataset}: neither a dataset name (${Object.keys(DATASETS).join(", ")}) nor an existing text file`);
  }
  let stopping = false;
  const stop = onStopSignal(() => (stopping = true), "stopping; the shards written so far stay whole, meta.json is not written");
  const result = await prepareShards({
    dataset: values.dataset,
    tokenizer: "gpt2",
    out: values.out,
    shardTokens: values.shardTokens,
    valFraction: values.valFraction,
    shouldStop: () => stopping,
  });
  if (!result) {
    console.error("stopped: the folder has no meta.json, so nothing will train on it; run the same command again");
    return stop.exitCode || 130;
  }
  const { dir, meta } = result;
  for (const split of ["train", "val"] as const) {
    const shards = meta.shards.filter((s) => s.split === split);
    const tokens = shards.reduce((sum, s) => sum + s.tokens, 0);
    console.log(`${split}: ${tokens.toLocaleString("en-US")} tokens in ${shards.length} shard${shards.length === 1 ? "" : "s"}`);
  }
  console.log(`wrote ${dir}/meta.json (${meta.tokenizer}, vocabulary ${meta.vocabSize}, end-of-text ${meta.eot})`);
  return stop.exitCode;
});
