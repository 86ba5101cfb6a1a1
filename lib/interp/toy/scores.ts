/**
 * Attention-pattern scores for finding heads by what they do (as ARENA's induction and
 * previous-token detectors): the mean weight a head puts on the key `offset` places before each query.
 */

/**
 * patterns (batch, head, query, key) → per head, the mean of pattern[b][h][q][q − offset] over the
 * batch and the queries q ≥ firstQuery. offset 1: a previous-token head scores near 1. On rows
 * [BOS, s, s] with |s| = n, an induction head at a query in the second s looks at the token after
 * that token's first occurrence: offset n − 1, from query n + 1.
 */
export function diagonalScores(patterns: number[][][][], offset: number, firstQuery: number): number[] {
  if (!(Number.isInteger(offset) && offset >= 0)) throw new RangeError(`diagonalScores: offset must be a non-negative integer, got ${offset}`);
  const heads = patterns[0]?.length ?? 0;
  const queries = patterns[0]?.[0]?.length ?? 0;
  const start = Math.max(firstQuery, offset);
  if (start >= queries) throw new RangeError(`diagonalScores: no query from ${start} in ${queries} positions`);
  return Array.from({ length: heads }, (_, h) => {
    let sum = 0;
    let n = 0;
    for (const row of patterns) {
      for (let q = start; q < queries; q++) {
        sum += row[h][q][q - offset];
        n += 1;
      }
    }
    return sum / n;
  });
}

/** Induction score per head on [BOS, s, s] rows with |s| = half: diagonalScores(patterns, half − 1, half + 1). */
export function inductionScores(patterns: number[][][][], half: number): number[] {
  return diagonalScores(patterns, half - 1, half + 1);
}

/** Previous-token score per head: the mean weight on the token just before, from position 1 on. */
export function previousTokenScores(patterns: number[][][][]): number[] {
  return diagonalScores(patterns, 1, 1);
}
