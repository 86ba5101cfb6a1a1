/**
 * The GPT-2 and GPT-4 tokenizers, rebuilt from the ranks that js-tiktoken ships.
 *
 * tiktoken stores a vocabulary as "mergeable ranks": token bytes -> rank (= id), where a token's
 * rank is when training created it. The pairs that were merged are not stored; as in minbpe's
 * gpt4.py they are recovered by running BPE on each token's bytes with only the lower ranks
 * allowed: what is left is exactly two parts, the pair that made the token. Our own encoder then
 * uses these merges (js-tiktoken is only the reference in tests and benchmarks).
 *
 * The single-byte tokens are not numbered in byte order (GPT-2 put printable bytes first), so the
 * model keeps a byte order; ids are tiktoken's ranks unchanged.
 */
import { RegexTokenizer } from "./regex.js";
import { GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN } from "./patterns.js";
import type { BpeModel } from "./bpe.js";
import { PairTable } from "./pair-table.js";

export const TIKTOKEN_ENCODINGS = ["gpt2", "r50k_base", "cl100k_base"] as const;
export type TiktokenEncodingName = (typeof TIKTOKEN_ENCODINGS)[number];

const SPLIT_PATTERNS: Record<TiktokenEncodingName, string> = {
  gpt2: GPT2_SPLIT_PATTERN,
  r50k_base: GPT2_SPLIT_PATTERN,
  cl100k_base: GPT4_SPLIT_PATTERN,
};

interface TiktokenRanksFile {
  pat_str: string;
  special_tokens: Record<string, number>;
  bpe_ranks: string;
}

const models = new Map<TiktokenEncodingName, Promise<BpeModel>>();

/**
 * A new tokenizer for a tiktoken encoding: "gpt2" (= "r50k_base", GPT-2) or "cl100k_base" (GPT-4),
 * with its special tokens registered. The ranks are parsed once per process.
 */
export async function loadTiktokenEncoding(name: TiktokenEncodingName): Promise<RegexTokenizer> {
  if (!(name in SPLIT_PATTERNS)) throw new Error(`Unknown encoding "${name}": use ${Object.keys(SPLIT_PATTERNS).join(", ")}`);
  let model = models.get(name);
  if (!model) {
    model = readRanksFile(name).then((file) => ({
      ...modelFromRanks(parseTiktokenRanks(file.bpe_ranks)),
      pattern: SPLIT_PATTERNS[name],
      specialTokens: file.special_tokens,
    }));
    models.set(name, model);
  }
  const tokenizer = new RegexTokenizer(SPLIT_PATTERNS[name]);
  tokenizer.setModel(await model);
  return tokenizer;
}

async function readRanksFile(name: TiktokenEncodingName): Promise<TiktokenRanksFile> {
  const specifier = `js-tiktoken/ranks/${name}`; // a variable: resolved at run time, not by the type checker
  const module = (await import(specifier)) as { default: TiktokenRanksFile };
  return module.default;
}

/**
 * Token bytes by rank from js-tiktoken's compact format: lines of "<prefix> <first rank> <base64
 * token> <base64 token> ...", ranks consecutive within a line. Tokens are latin1 strings (one char
 * per byte), convenient as Map keys.
 */
export function parseTiktokenRanks(bpeRanks: string): string[] {
  const tokens: string[] = [];
  for (const line of bpeRanks.split("\n")) {
    if (line === "") continue;
    const [, offset, ...encoded] = line.split(" ");
    const first = Number.parseInt(offset, 10);
    encoded.forEach((token, i) => (tokens[first + i] = atob(token)));
  }
  return tokens;
}

/** Byte order and merges from tokens listed by rank (ranks 0..255 single bytes, then one merge per rank). */
export function modelFromRanks(tokens: readonly string[]): { byteOrder: number[]; merges: [number, number][] } {
  const rankOf = new Map<string, number>();
  tokens.forEach((token, rank) => rankOf.set(token, rank));
  const joins = concatenationTable(tokens);
  const byteOrder: number[] = [];
  const merges: [number, number][] = [];
  tokens.forEach((token, rank) => {
    if (rank < 256) {
      if (token.length !== 1) throw new Error(`Rank ${rank} should be a single byte`);
      byteOrder.push(token.charCodeAt(0));
      return;
    }
    const parts = bpeBelowRank(Array.from(token, (ch) => rankOf.get(ch)!), joins, rank);
    if (parts.length !== 2) throw new Error(`Token of rank ${rank} does not split into one pair (${parts.length} parts)`);
    merges.push([parts[0], parts[1]]);
  });
  return { byteOrder, merges };
}

/**
 * (rank of x, rank of y) -> rank of the token x + y, for every token and every way of cutting it
 * into two tokens: the rank lookup of concatenated bytes that minbpe's `bpe` does, on integers.
 * A byte trie of the tokens finds the rank of every piece without building strings.
 */
function concatenationTable(tokens: readonly string[]): PairTable {
  const trie = new ByteTrie(tokens);
  const joins = new PairTable(tokens.length * 2);
  tokens.forEach((token, rank) => {
    let prefixNode = ByteTrie.ROOT;
    for (let cut = 1; cut < token.length; cut++) {
      prefixNode = trie.child(prefixNode, token.charCodeAt(cut - 1));
      const left = trie.rankAt(prefixNode);
      if (left < 0) continue;
      const right = trie.rankOf(token, cut);
      if (right >= 0) joins.set(left, right, rank);
    }
  });
  return joins;
}

/** The tokens' bytes in a trie whose edges live in a PairTable: (node, byte) -> child node. */
class ByteTrie {
  static readonly ROOT = 0;
  private edges: PairTable;
  private ranks: number[] = [-1];

  constructor(tokens: readonly string[]) {
    this.edges = new PairTable(tokens.length * 2);
    tokens.forEach((token, rank) => {
      let node = ByteTrie.ROOT;
      for (let i = 0; i < token.length; i++) {
        const byte = token.charCodeAt(i);
        let next = this.edges.get(node, byte);
        if (next < 0) {
          next = this.ranks.length;
          this.ranks.push(-1);
          this.edges.set(node, byte, next);
        }
        node = next;
      }
      this.ranks[node] = rank;
    });
  }

  child(node: number, byte: number): number {
    return this.edges.get(node, byte);
  }

  rankAt(node: number): number {
    return this.ranks[node];
  }

  /** The rank of `token.slice(start)`, or -1 if that is not a token. */
  rankOf(token: string, start: number): number {
    let node = ByteTrie.ROOT;
    for (let i = start; i < token.length && node >= 0; i++) node = this.edges.get(node, token.charCodeAt(i));
    return node >= 0 ? this.ranks[node] : -1;
  }
}

/** minbpe's `bpe`: merge the lowest-ranked adjacent pair while its rank is below `maxRank`. */
function bpeBelowRank(parts: number[], joins: PairTable, maxRank: number): number[] {
  for (;;) {
    let best = maxRank;
    let at = -1;
    for (let i = 0; i + 1 < parts.length; i++) {
      const rank = joins.get(parts[i], parts[i + 1]);
      if (rank >= 0 && rank < best) {
        best = rank;
        at = i;
      }
    }
    if (at < 0) return parts;
    parts.splice(at, 2, best);
  }
}
