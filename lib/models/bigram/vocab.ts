/**
 * The character vocabulary of makemore's bigram model: a boundary token '.'
 * at index 0 (it marks both the start and the end of a word) and every
 * character seen in the words, sorted, at 1..n. For names.txt: a..z = 1..26.
 */
export const BOUNDARY = ".";

export class CharVocab {
  readonly chars: string[];
  private readonly index: Map<string, number>;

  constructor(chars: string[]) {
    if (chars[0] !== BOUNDARY) throw new Error(`CharVocab: index 0 must be the boundary token "${BOUNDARY}"`);
    this.chars = chars;
    this.index = new Map(chars.map((c, i) => [c, i]));
  }

  static fromWords(words: string[]): CharVocab {
    const seen = new Set<string>();
    for (const word of words) for (const c of word) seen.add(c);
    if (seen.has(BOUNDARY)) throw new Error(`CharVocab: the words contain the boundary token "${BOUNDARY}"`);
    return new CharVocab([BOUNDARY, ...[...seen].sort()]);
  }

  get size(): number {
    return this.chars.length;
  }

  encode(c: string): number {
    const i = this.index.get(c);
    if (i === undefined) throw new Error(`CharVocab: unknown character ${JSON.stringify(c)}`);
    return i;
  }

  decode(i: number): string {
    return this.chars[i];
  }
}

/** Split a text file of words into non-empty lines (names.txt has one name a line). */
export function splitWords(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.length > 0);
}

/** Every (previous, next) pair of a word wrapped in boundary tokens: "emma" gives .e em mm ma a. */
export function* bigramsOf(word: string, vocab: CharVocab): Generator<[number, number]> {
  let previous = 0;
  for (const c of word) {
    const next = vocab.encode(c);
    yield [previous, next];
    previous = next;
  }
  yield [previous, 0];
}

/** All bigrams of the words as two index arrays: inputs xs[i] and targets ys[i]. */
export function bigramPairs(words: string[], vocab: CharVocab): { xs: Int32Array; ys: Int32Array } {
  let n = 0;
  for (const word of words) n += [...word].length + 1;
  const xs = new Int32Array(n);
  const ys = new Int32Array(n);
  let i = 0;
  for (const word of words) {
    for (const [x, y] of bigramsOf(word, vocab)) {
      xs[i] = x;
      ys[i] = y;
      i++;
    }
  }
  return { xs, ys };
}
