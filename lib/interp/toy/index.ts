/**
 * Toy tasks for looking inside small transformers (the seed's "toy problem with a hooked transformer").
 *
 *   const tok = new ToyTokenizer(toyVocab(3));                  // "<", "|", ">", "a", "b", "c" → 0..5
 *   const { train, test } = trainTestSplit(palindromes(3, 3), 0.2, 0);  // "<abc|cba>", …
 *   const toy = await trainToyModel({ task: "palindromes", train: train.map((s) => tok.encode(s)), test: …, model: { vocabSize: tok.vocabSize, nLayer: 2, nHead: 2, nEmbd: 32 }, training: { maxIters: 500 } });
 *   const acc = await answerAccuracy(toy.model, testRows, 5, 8);  // { token, sequence, correct[] }
 *
 * Exports: ToyTokenizer(vocab) (.encode, .decode, .vocab, .vocabSize), toyVocab(letters), alphabet(letters);
 * palindromes(length, letters), sortingExamples(length, letters, { distinct? }), allWords(length, symbols),
 * trainTestSplit(items, testFraction, seed), repeatedTokens(count, half, vocabSize, { seed, bos, low }),
 * inductionRows(count, length, vocabSize, { minRepeat, maxRepeat, seed, bos, low }) → { rows, copyStarts };
 * repeatedBlocks(count, length, vocabSize, { minRepeat, maxRepeat, seed, bos, low }) (blocks s s, t t, …),
 * skipBigramRows(count, length, vocabSize, { p, seed, ruleSeed, bos, low }) (a token two back predicts the next);
 * RowStream(rows, seed) (equal-length rows as a trainer BatchStream); predictions(model, rows) →
 * per position { prob, top, topProb }; answerAccuracy(model, rows, from, to?) → { token, sequence, correct };
 * lossByPosition(model, rows); diagonalScores(patterns, offset, firstQuery), inductionScores(patterns, half), previousTokenScores(patterns);
 * trainToyModel(options) → { model, checkpoint, reused, evals } (reuses a matching checkpoint).
 */
export * from "./tokenizer.js";
export * from "./tasks.js";
export * from "./stream.js";
export * from "./metrics.js";
export * from "./train.js";
export * from "./scores.js";
