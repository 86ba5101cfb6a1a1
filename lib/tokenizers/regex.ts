/** minbpe's RegexTokenizer: BPE within the chunks of a split pattern (GPT-4's by default). */
import { BpeTokenizer } from "./bpe.js";
import { GPT4_SPLIT_PATTERN, splitText } from "./patterns.js";
import { learnMerges, type TrainOptions } from "./train.js";

export class RegexTokenizer extends BpeTokenizer {
  constructor(pattern: string = GPT4_SPLIT_PATTERN) {
    super({ pattern, merges: [] });
  }

  /** The chunks BPE works within. */
  split(text: string): string[] {
    return this.splitRegex ? splitText(this.splitRegex, text) : [text];
  }

  /**
   * Learns `vocabSize - 256` merges from `text` (fewer if it runs out of pairs). Special tokens
   * stay registered; the text is treated as ordinary text.
   */
  train(text: string, vocabSize: number, options: TrainOptions = {}): this {
    if (!(vocabSize >= 256)) throw new RangeError(`vocabSize must be at least 256, got ${vocabSize}`);
    const learned = learnMerges(this.split(text), vocabSize - 256, options);
    this.setModel({
      pattern: this.pattern,
      merges: learned.map((m) => m.pair),
      specialTokens: Object.fromEntries(this.specialTokens),
    });
    return this;
  }
}
