/** minbpe's BasicTokenizer: byte-level BPE over the whole text, no regex splitting. */
import { BpeTokenizer } from "./bpe.js";
import { learnMerges, type TrainOptions } from "./train.js";

export class BasicTokenizer extends BpeTokenizer {
  /** Learns `vocabSize - 256` merges from `text` (fewer if the text runs out of pairs). */
  train(text: string, vocabSize: number, options: TrainOptions = {}): this {
    if (!(vocabSize >= 256)) throw new RangeError(`vocabSize must be at least 256, got ${vocabSize}`);
    const learned = learnMerges([text], vocabSize - 256, options);
    this.setModel({ pattern: "", merges: learned.map((m) => m.pair), specialTokens: Object.fromEntries(this.specialTokens) });
    return this;
  }
}
