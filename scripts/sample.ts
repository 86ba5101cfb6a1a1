/**
 * `npm run sample -- --ckpt out/shakespeare-char-cpu/ckpt.safetensors [--key value ...]`: nanoGPT's sample.py.
 *   --ckpt PATH            a checkpoint (or a saveGPT file), or a folder holding ckpt.safetensors;
 *                          tokenizer.model must be next to it
 *   --start TEXT           the prompt (default "\n"); FILE:path reads it from a file
 *   --num_samples 1  --max_new_tokens 500  --temperature 0.8  --top_k 200  --top_p 1  --seed 1337
 *   --backend cpu|wasm|webgpu|tensorflow|auto
 * Ctrl-C or SIGTERM stops after the current token (exit 130 / 143).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { backendChoices, describeEngine, shutdownEngine, useBackend, type BackendChoice } from "../lib/engine/index.js";
import { loadGPT } from "../lib/models/gpt/index.js";
import { generate } from "../lib/sample/index.js";
import { loadSavedTokenizer } from "../lib/tokenizers/index.js";
import { formatHelp, paddedDecoder, parseFlags, type FlagSchema } from "../lib/train/index.js";
import { UsageError, onStopSignal, runCli } from "../lib/util/cli.js";

const FLAGS = {
  ckpt: { type: "string", default: "out/shakespeare-char-cpu/ckpt.safetensors", help: "checkpoint file, or a folder holding ckpt.safetensors" },
  start: { type: "string", default: "\n", help: 'prompt ("\\n" is a newline); FILE:path reads it from a file' },
  numSamples: { type: "integer", min: 1, default: 1, help: "samples to draw" },
  maxNewTokens: { type: "integer", min: 0, default: 500, help: "tokens per sample" },
  temperature: { type: "number", min: 0, default: 0.8, help: "divides the logits (0: greedy)" },
  topK: { type: "integer", min: 1, default: 200, help: "keep the k most likely tokens" },
  topP: { type: "number", above: 0, max: 1, default: 1, help: "keep the most likely tokens up to this total probability" },
  seed: { type: "integer", min: 0, max: 2 ** 32 - 1, default: 1337, help: "seed of the first sample (+1 for each next one)" },
  backend: { type: "string", choices: backendChoices, help: "tensor backend; default: COURSE_BACKEND, else auto" },
} satisfies FlagSchema;

runCli(async () => {
  const { values: args, help } = parseFlags(process.argv.slice(2), FLAGS);
  if (help) {
    console.log(formatHelp("npm run sample -- [--ckpt PATH] [--flag value ...]   (nanoGPT's sample.py)", FLAGS));
    return;
  }
  const ckpt = checkpointFile(args.ckpt);
  const tokenizerPath = join(dirname(ckpt), "tokenizer.model");
  if (!existsSync(tokenizerPath)) {
    throw new UsageError(`no tokenizer for ${ckpt}: expected ${tokenizerPath} next to it (npm run train writes both into its out folder)`);
  }
  let start = args.start.replace(/\\n/g, "\n");
  if (start.startsWith("FILE:")) {
    if (!existsSync(start.slice(5))) throw new UsageError(`--start ${start}: no such file`);
    start = readFileSync(start.slice(5), "utf8");
  }

  await useBackend(args.backend as BackendChoice | undefined);
  console.error(`backend: ${describeEngine()}`);
  const model = loadGPT(ckpt);
  const tokenizer = await loadSavedTokenizer(tokenizerPath);
  const prompt = tokenizer.encode(start);
  // A model whose vocabulary is padded past the tokenizer's (GPT-2's 50304 > 50257) may draw a padding id.
  const decode = paddedDecoder((ids) => tokenizer.decode(ids), tokenizer.vocabSize);

  const stop = onStopSignal(() => undefined, "stopping after this token");
  process.stdout.write(start);
  for (let i = 0; i < args.numSamples && stop.signal === null; i++) {
    await generate(model, prompt, {
      maxNewTokens: args.maxNewTokens,
      temperature: args.temperature,
      topK: args.topK,
      topP: args.topP,
      seed: args.seed + i,
      onToken: (id) => (process.stdout.write(decode([id])), stop.signal === null),
    });
    process.stdout.write("\n---------------\n" + (i + 1 < args.numSamples && stop.signal === null ? start : ""));
  }
  model.dispose();
  await shutdownEngine();
  return stop.exitCode;
});

/** --ckpt names a file, or a folder with ckpt.safetensors in it. */
function checkpointFile(path: string): string {
  if (!existsSync(path)) throw new UsageError(`--ckpt ${path}: no such file (train one with npm run train, or pass --ckpt)`);
  if (!statSync(path).isDirectory()) return path;
  const inside = join(path, "ckpt.safetensors");
  if (!existsSync(inside)) {
    throw new UsageError(`--ckpt ${path} is a folder without ckpt.safetensors: pass a checkpoint file, or the folder npm run train wrote (ckpt.safetensors and tokenizer.model)`);
  }
  return inside;
}
