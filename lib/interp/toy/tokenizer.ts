/**
 * The toy models' tokenizer: one token per character, ids in vocabulary order
 * (so "<", "|", ">" and "a".."z" get the ids of where they are listed).
 */
export class ToyTokenizer {
  readonly vocab: readonly string[];
  private readonly ids: Map<string, number>;

  constructor(vocab: readonly string[]) {
    this.ids = new Map();
    vocab.forEach((token, id) => {
      if ([...token].length !== 1) throw new Error(`ToyTokenizer: each token is one character, got ${JSON.stringify(token)}`);
      if (this.ids.has(token)) throw new Error(`ToyTokenizer: ${JSON.stringify(token)} is listed twice`);
      this.ids.set(token, id);
    });
    this.vocab = vocab.slice();
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  encode(text: string): number[] {
    return [...text].map((ch, i) => {
      const id = this.ids.get(ch);
      if (id === undefined) throw new Error(`ToyTokenizer: ${JSON.stringify(ch)} at position ${i} of ${JSON.stringify(text)} is not in the vocabulary ${JSON.stringify(this.vocab.join(""))}`);
      return id;
    });
  }

  decode(ids: ArrayLike<number>): string {
    let text = "";
    for (let i = 0; i < ids.length; i++) {
      const token = this.vocab[ids[i]];
      if (token === undefined) throw new Error(`ToyTokenizer: id ${ids[i]} is outside the vocabulary (size ${this.vocab.length})`);
      text += token;
    }
    return text;
  }
}

/** "<", "|", ">" and the first `letters` lower-case letters, in that order. */
export function toyVocab(letters: number): string[] {
  if (!Number.isInteger(letters) || letters < 1 || letters > 26) throw new RangeError(`toyVocab: letters must be 1..26, got ${letters}`);
  return ["<", "|", ">", ...alphabet(letters)];
}

export function alphabet(letters: number): string[] {
  return Array.from({ length: letters }, (_, i) => String.fromCharCode(97 + i));
}
