// nextTokenProbabilities selects top-k by quickselect and the nucleus from sorted values (fast at
// GPT-2's 50,257 tokens); here it must equal, bit for bit, the plain definition: sort everything.
import { describe, expect, it } from "vitest";
import { nextTokenProbabilities, type SampleOptions } from "../lib/sample/index.js";
import { Rng } from "../lib/util/random.js";

/** The definitions written as directly as possible: full sorts, stable index order for ties. */
function reference(logits: number[], { temperature = 1, topK, topP }: SampleOptions): Float64Array {
  const n = logits.length;
  const scaled = logits.map((l) => l / temperature);
  if (topK !== undefined && topK < n) {
    const kth = [...scaled].sort((a, b) => a - b)[n - topK];
    scaled.forEach((x, i) => (scaled[i] = x < kth ? -Infinity : x));
  }
  const max = Math.max(...scaled);
  const exps = scaled.map((x) => Math.exp(x - max));
  let total = 0;
  for (const e of exps) total += e;
  const probs = Float64Array.from(exps, (e) => e / total);
  if (topP === undefined || topP >= 1) return probs;
  const order = [...probs.keys()].sort((a, b) => probs[b] - probs[a]);
  let cumulative = 0;
  let kept = 0;
  while (kept < n && cumulative < topP) cumulative += probs[order[kept++]];
  for (let i = kept; i < n; i++) probs[order[i]] = 0;
  return probs.map((x) => x / cumulative);
}

describe("nextTokenProbabilities", () => {
  it("equals the sort-everything definition on 3000 random cases (ties, -Infinity, every option)", () => {
    const rng = new Rng(2026);
    let withTies = 0;
    for (let c = 0; c < 3000; c++) {
      const n = 1 + rng.randint(0, c % 10 === 0 ? 2000 : 60);
      // Few distinct values make ties with the k-th and with the nucleus's last token common.
      const levels = 1 + rng.randint(0, 8);
      const logits = Array.from({ length: n }, () => (rng.random() < 0.05 ? -Infinity : rng.randint(0, levels) * 0.7 - 2));
      if (logits.every((l) => l === -Infinity)) logits[0] = 0;
      if (new Set(logits).size < n) withTies++;
      const options: SampleOptions = {
        temperature: rng.random() < 0.3 ? 1 : 0.2 + rng.random() * 2,
        topK: rng.random() < 0.6 ? 1 + rng.randint(0, n + 2) : undefined,
        topP: rng.random() < 0.6 ? (rng.random() < 0.1 ? 1 : 0.01 + rng.random() * 0.98) : undefined,
      };
      const got = nextTokenProbabilities(logits, options);
      const want = reference(logits, options);
      if (got.some((x, i) => x !== want[i])) throw new Error(`case ${c}: ${JSON.stringify({ logits, options })}`);
    }
    expect(withTies).toBeGreaterThan(2000);
  });
});
