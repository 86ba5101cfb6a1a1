/**
 * The toy tasks as strings: palindromes "<abc|cba>", sorting "<adcb|abcd>" and repeated random
 * sequences for induction heads. The answer is everything after "|"; the model sees it all.
 */
import { Rng } from "../../util/random.js";
import { alphabet } from "./tokenizer.js";

/** Every "<w|reverse(w)>" for words w of `length` letters from the first `letters` letters (letters^length of them). */
export function palindromes(length: number, letters: number): string[] {
  return allWords(length, alphabet(letters)).map((w) => `<${w}|${[...w].reverse().join("")}>`);
}

/**
 * "<w|sorted(w)>" for words w of `length` letters. With `distinct` (default) w has no repeated
 * letter, so every permutation of every `length`-subset of the letters is there.
 */
export function sortingExamples(length: number, letters: number, options: { distinct?: boolean } = {}): string[] {
  const distinct = options.distinct ?? true;
  const all = allWords(length, alphabet(letters)).filter((w) => !distinct || new Set(w).size === w.length);
  return all.map((w) => `<${w}|${[...w].sort().join("")}>`);
}

/** All words of `length` over `symbols`, in lexicographic order. */
export function allWords(length: number, symbols: readonly string[]): string[] {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`words: length must be a positive integer, got ${length}`);
  let result = [""];
  for (let i = 0; i < length; i++) result = result.flatMap((prefix) => symbols.map((s) => prefix + s));
  return result;
}

/** A seeded shuffle of `items` cut into train and test (testFraction of them, at least one of each). */
export function trainTestSplit<T>(items: readonly T[], testFraction: number, seed = 0): { train: T[]; test: T[] } {
  if (!(testFraction > 0 && testFraction < 1)) throw new RangeError(`trainTestSplit: testFraction must be in (0, 1), got ${testFraction}`);
  if (items.length < 2) throw new RangeError(`trainTestSplit: need at least 2 items, got ${items.length}`);
  const shuffled = new Rng(seed).shuffle(items.slice());
  const nTest = Math.min(items.length - 1, Math.max(1, Math.round(items.length * testFraction)));
  return { test: shuffled.slice(0, nTest), train: shuffled.slice(nTest) };
}

/**
 * `count` rows of a random half of `half` tokens from [low, vocabSize) followed by the same half
 * again, with `bos` first when given: the data of induction heads (the repeat is predictable only
 * by looking back). Row length: half·2 (+1 with a BOS).
 */
export function repeatedTokens(count: number, half: number, vocabSize: number, options: { seed?: number; bos?: number; low?: number } = {}): number[][] {
  const rng = new Rng(options.seed ?? 0);
  const low = options.low ?? 0;
  if (!(vocabSize > low)) throw new RangeError(`repeatedTokens: no tokens in [${low}, ${vocabSize})`);
  return Array.from({ length: count }, () => {
    const first = Array.from({ length: half }, () => rng.randint(low, vocabSize));
    return [...(options.bos === undefined ? [] : [options.bos]), ...first, ...first];
  });
}

/**
 * Training rows for induction heads: `length` random tokens from [low, vocabSize) (BOS first when
 * given) in which a random stretch of h ∈ [minRepeat, maxRepeat] tokens is followed by a copy of
 * itself. The copy starts at a different place in every row, so only looking back at what followed
 * the previous occurrence of the current token predicts it; a fixed position offset does not.
 * Returns the rows and, per row, the index where the copy starts.
 */
export function inductionRows(
  count: number,
  length: number,
  vocabSize: number,
  options: { minRepeat: number; maxRepeat: number; seed?: number; bos?: number; low?: number },
): { rows: number[][]; copyStarts: number[] } {
  const rng = new Rng(options.seed ?? 0);
  const low = options.low ?? 0;
  const first = options.bos === undefined ? 0 : 1;
  const { minRepeat, maxRepeat } = options;
  if (!(minRepeat >= 1 && maxRepeat >= minRepeat && first + 2 * maxRepeat <= length)) {
    throw new RangeError(`inductionRows: need 1 ≤ minRepeat ≤ maxRepeat and 2·maxRepeat (${2 * maxRepeat}) to fit in ${length - first} tokens`);
  }
  const rows: number[][] = [];
  const copyStarts: number[] = [];
  for (let i = 0; i < count; i++) {
    const row = Array.from({ length }, () => rng.randint(low, vocabSize));
    if (options.bos !== undefined) row[0] = options.bos;
    const h = rng.randint(minRepeat, maxRepeat + 1);
    const start = rng.randint(first, length - 2 * h + 1);
    for (let t = 0; t < h; t++) row[start + h + t] = row[start + t];
    rows.push(row);
    copyStarts.push(start + h);
  }
  return { rows, copyStarts };
}

/**
 * Rows of `length` tokens (BOS first when given) made of repeated blocks: h random tokens from
 * [low, vocabSize), then the same h again, then a fresh block, h drawn anew in [minRepeat, maxRepeat]
 * each time; the last block is cut at the row's end. Every second copy is predictable by induction,
 * and the varying h keeps any fixed look-back offset from being a shortcut.
 */
export function repeatedBlocks(count: number, length: number, vocabSize: number, options: { minRepeat: number; maxRepeat: number; seed?: number; bos?: number; low?: number }): number[][] {
  const rng = new Rng(options.seed ?? 0);
  const low = options.low ?? 0;
  const { minRepeat, maxRepeat } = options;
  if (!(Number.isInteger(minRepeat) && minRepeat >= 1 && maxRepeat >= minRepeat)) throw new RangeError(`repeatedBlocks: need 1 ≤ minRepeat ≤ maxRepeat, got ${minRepeat} and ${maxRepeat}`);
  return Array.from({ length: count }, () => {
    const row = options.bos === undefined ? [] : [options.bos];
    while (row.length < length) {
      const block = Array.from({ length: rng.randint(minRepeat, maxRepeat + 1) }, () => rng.randint(low, vocabSize));
      row.push(...block, ...block);
    }
    return row.slice(0, length);
  });
}

/**
 * Rows in which each token is, with probability `p`, a fixed function of the token two places back
 * (rule[token], a random map drawn from `ruleSeed`), else uniform in [low, vocabSize). As in text,
 * where the previous token helps to predict the next, a head that looks one position back pays off
 * here on its own: it is the half of an induction circuit that random repeats alone do not reward.
 * The rule never chains: a token it made is never the two-back of another, so looking three back
 * (rule of rule) pays nothing, and no such head is there to offer a copying route beside induction.
 */
export function skipBigramRows(count: number, length: number, vocabSize: number, options: { p: number; seed?: number; ruleSeed?: number; bos?: number; low?: number }): number[][] {
  if (!(options.p >= 0 && options.p <= 1)) throw new RangeError(`skipBigramRows: p must be in [0, 1], got ${options.p}`);
  const low = options.low ?? 0;
  const ruleRng = new Rng(options.ruleSeed ?? 0);
  const rule = Array.from({ length: vocabSize }, () => ruleRng.randint(low, vocabSize));
  const rng = new Rng(options.seed ?? 0);
  const first = options.bos === undefined ? 0 : 1;
  return Array.from({ length: count }, () => {
    const row = options.bos === undefined ? [] : [options.bos];
    const ruled: boolean[] = row.map(() => false);
    while (row.length < length) {
      const t = row.length;
      const followsRule = t >= first + 2 && !ruled[t - 2] && rng.random() < options.p;
      row.push(followsRule ? rule[row[t - 2]] : rng.randint(low, vocabSize));
      ruled.push(followsRule);
    }
    return row;
  });
}
