/**
 * `npm run sample -- --ckpt out/shakespeare-char-cpu/ckpt.safetensors [--key value ...]`: nanoGPT's sample.py.
 *   --ckpt PATH            a checkpoint (or a saveGPT file) with tokenizer.model next to it
 *   --start TEXT           the prompt (default "\n"); FILE:path reads it from a file
 *   --num_samples 1  --max_new_tokens 500  --temperature 0.8  --top_k 200  --top_p 1  --seed 1337
 *   --backend cpu|wasm|webgpu|tensorflow|auto
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describeEngine, shutdownEngine, useBackend, type BackendChoice } from "../lib/engine/index.js";
import { loadGPT } from "../lib/models/gpt/index.js";
import { generate } from "../lib/sample/index.js";
import { loadTokenizer } from "../lib/tokenizers/index.js";
import { parseArgs } from "../lib/train/index.js";

const args = parseArgs(process.argv.slice(2));
const ckpt = String(args.ckpt ?? "out/shakespeare-char-cpu/ckpt.safetensors");
if (!existsSync(ckpt)) {
  console.error(`no checkpoint at ${ckpt} (train one with npm run train, or pass --ckpt)`);
  process.exit(1);
}
const tokenizerPath = join(dirname(ckpt), "tokenizer.model");
if (!existsSync(tokenizerPath)) throw new Error(`no tokenizer at ${tokenizerPath}`);

await useBackend(args.backend as BackendChoice | undefined);
console.error(`backend: ${describeEngine()}`);
const model = loadGPT(ckpt);
const tokenizer = loadTokenizer(tokenizerPath);
let start = String(args.start ?? "\n").replace(/\\n/g, "\n");
if (start.startsWith("FILE:")) start = readFileSync(start.slice(5), "utf8");

const numSamples = Number(args.numSamples ?? 1);
process.stdout.write(start);
for (let i = 0; i < numSamples; i++) {
  await generate(model, tokenizer.encode(start), {
    maxNewTokens: Number(args.maxNewTokens ?? 500),
    temperature: Number(args.temperature ?? 0.8),
    topK: Number(args.topK ?? 200),
    topP: args.topP === undefined ? undefined : Number(args.topP),
    seed: Number(args.seed ?? 1337) + i,
    onToken: (id) => void process.stdout.write(tokenizer.decode([id])),
  });
  process.stdout.write("\n---------------\n" + (i + 1 < numSamples ? start : ""));
}
model.dispose();
await shutdownEngine();
