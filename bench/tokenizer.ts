/**
 * Tokenizer speed. Training: seconds to learn vocabularies of 512 and 4096 tokens (BasicTokenizer
 * and RegexTokenizer with GPT-4's pattern) on taylorswift.txt and tinyshakespeare.txt. Encoding:
 * our GPT-2 / GPT-4 encoders against js-tiktoken's on the same text in the same run (MB/s and
 * the ratio); "cold" starts with an empty chunk cache, "warm" encodes the text a second time.
 */
import { getEncoding } from "js-tiktoken";
import { loadText } from "../lib/data/index.js";
import { BasicTokenizer, RegexTokenizer, loadTiktokenEncoding, utf8Encode } from "../lib/tokenizers/index.js";
import { median } from "./support/stats.js";

function seconds(run: () => void): number {
  const start = performance.now();
  run();
  return (performance.now() - start) / 1000;
}

const datasets = ["taylorswift", "tinyshakespeare"];
const texts = Object.fromEntries(await Promise.all(datasets.map(async (name) => [name, await loadText(name)] as const)));

console.log("Training (seconds)");
console.log("dataset          vocab   Basic   Regex");
for (const name of datasets) {
  for (const vocabSize of [512, 4096]) {
    const basic = seconds(() => new BasicTokenizer().train(texts[name], vocabSize));
    const regex = seconds(() => new RegexTokenizer().train(texts[name], vocabSize));
    console.log(`${name.padEnd(16)} ${String(vocabSize).padStart(5)} ${basic.toFixed(2).padStart(7)} ${regex.toFixed(2).padStart(7)}`);
  }
}

console.log("\nEncoding throughput (MB/s, median of 3), ours vs js-tiktoken");
console.log("encoding     dataset           ours cold  ours warm  js-tiktoken  ratio cold  ratio warm");
for (const encoding of ["gpt2", "cl100k_base"] as const) {
  const ours = await loadTiktokenEncoding(encoding);
  const reference = getEncoding(encoding);
  for (const name of datasets) {
    const text = texts[name];
    const megabytes = utf8Encode(text).length / 1e6;
    const cold = median([0, 1, 2].map(() => (ours.clearCache(), megabytes / seconds(() => ours.encode(text)))));
    const warm = median([0, 1, 2].map(() => megabytes / seconds(() => ours.encode(text))));
    const theirs = median([0, 1, 2].map(() => megabytes / seconds(() => reference.encode(text))));
    console.log(
      `${encoding.padEnd(12)} ${name.padEnd(16)} ${cold.toFixed(2).padStart(10)} ${warm.toFixed(2).padStart(10)} ` +
        `${theirs.toFixed(2).padStart(12)} ${(cold / theirs).toFixed(2).padStart(10)}x ${(warm / theirs).toFixed(2).padStart(10)}x`,
    );
  }
}
