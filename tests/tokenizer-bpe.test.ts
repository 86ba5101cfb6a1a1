// BasicTokenizer / RegexTokenizer: training and encoding checked against a Python transcription
// of minbpe's reference algorithm (recount every pair for every merge), minbpe's file format,
// special tokens, and the encode/decode identity.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  BasicTokenizer,
  GPT2_SPLIT_PATTERN,
  RegexTokenizer,
  concatBytes,
  loadTokenizer,
  utf8Encode,
  type MergeEvent,
} from "../lib/tokenizers/index.js";
import { loadText } from "../lib/data/index.js";
import { Rng } from "../lib/util/random.js";

// minbpe's algorithm, transcribed: get_stats / merge / train / _encode_chunk / save.
const MINBPE_REFERENCE = String.raw`
import json, sys, unicodedata

def get_stats(ids, counts=None):
    counts = {} if counts is None else counts
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + 1
    return counts

def merge(ids, pair, idx):
    newids, i = [], 0
    while i < len(ids):
        if i < len(ids) - 1 and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            newids.append(idx); i += 2
        else:
            newids.append(ids[i]); i += 1
    return newids

def train(chunks, num_merges):
    ids = [list(ch.encode("utf-8")) for ch in chunks]
    merges = []
    for i in range(num_merges):
        stats = {}
        for chunk_ids in ids:
            get_stats(chunk_ids, stats)
        if not stats:
            break
        pair = max(stats, key=stats.get)
        ids = [merge(chunk_ids, pair, 256 + i) for chunk_ids in ids]
        merges.append([pair[0], pair[1], stats[pair]])
    return merges

def encode_chunk(ids, merges):
    while len(ids) >= 2:
        stats = get_stats(ids)
        pair = min(stats, key=lambda p: merges.get(p, float("inf")))
        if pair not in merges:
            break
        ids = merge(ids, pair, merges[pair])
    return ids

def render_token(t):
    s = t.decode("utf-8", errors="replace")
    return "".join(ch if unicodedata.category(ch)[0] != "C" else f"\\u{ord(ch):04x}" for ch in s)

def save(pattern, merges, special_tokens):
    model = "minbpe v1\n" + pattern + "\n" + f"{len(special_tokens)}\n"
    for special, idx in special_tokens.items():
        model += f"{special} {idx}\n"
    for idx1, idx2 in merges:
        model += f"{idx1} {idx2}\n"
    vocab = {idx: bytes([idx]) for idx in range(256)}
    merge_ids = {}
    for i, (p0, p1) in enumerate(merges):
        vocab[256 + i] = vocab[p0] + vocab[p1]
        merge_ids[256 + i] = (p0, p1)
    for special, idx in special_tokens.items():
        vocab[idx] = special.encode("utf-8")
    lines = []
    for idx, token in vocab.items():
        s = render_token(token)
        if idx in merge_ids:
            idx0, idx1 = merge_ids[idx]
            lines.append(f"[{render_token(vocab[idx0])}][{render_token(vocab[idx1])}] -> [{s}] {idx}\n")
        else:
            lines.append(f"[{s}] {idx}\n")
    return model, "".join(lines)

out = []
for case in json.load(sys.stdin):
    merges = train(case["chunks"], case["num_merges"])
    table = {(a, b): 256 + i for i, (a, b, _) in enumerate(merges)}
    encoded = [encode_chunk(list(ch.encode("utf-8")), table) for ch in case["encode_chunks"]]
    model, vocab = save(case["pattern"], [(a, b) for a, b, _ in merges], case["special_tokens"])
    out.append({"merges": merges, "encoded": [i for ids in encoded for i in ids], "model": model, "vocab": vocab})
json.dump(out, sys.stdout)
`;

interface ReferenceCase {
  chunks: string[];
  num_merges: number;
  encode_chunks: string[];
  pattern: string;
  special_tokens: Record<string, number>;
}
interface ReferenceResult {
  merges: [number, number, number][];
  encoded: number[];
  model: string;
  vocab: string;
}

function minbpeReference(cases: ReferenceCase[]): ReferenceResult[] {
  const result = spawnSync("/usr/bin/python3", ["-c", MINBPE_REFERENCE], {
    input: JSON.stringify(cases),
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as ReferenceResult[];
}

const taylor = await loadText("taylorswift");
const trainText = taylor.slice(0, 8_000);
const heldOut = taylor.slice(100_000, 104_000);
const regexTrainText = taylor.slice(20_000, 45_000);
const SPECIALS = { "<|endoftext|>": 100257, "<|fim_prefix|>": 100258 };

describe("training and encoding equal minbpe's reference algorithm", () => {
  const basic = new BasicTokenizer();
  const basicEvents: MergeEvent[] = [];
  basic.train(trainText, 256 + 120, { onMerge: (e) => basicEvents.push(e) });
  const regex = new RegexTokenizer();
  regex.train(regexTrainText, 256 + 200);
  regex.registerSpecialTokens(SPECIALS);
  const gpt2Regex = new RegexTokenizer(GPT2_SPLIT_PATTERN).train(regexTrainText, 256 + 100);
  // Small texts trained far: counts fall to 1 and 2, nearly every choice is a tie, and the regex
  // tokenizer runs out of pairs before 600 merges.
  const tieText = taylor.slice(50_000, 52_000);
  const basicTies = new BasicTokenizer().train(tieText, 256 + 600);
  const regexTies = new RegexTokenizer().train(tieText, 256 + 600);
  const [basicRef, regexRef, gpt2Ref, basicTiesRef, regexTiesRef] = minbpeReference([
    { chunks: [trainText], num_merges: 120, encode_chunks: [heldOut], pattern: "", special_tokens: {} },
    { chunks: regex.split(regexTrainText), num_merges: 200, encode_chunks: regex.split(heldOut), pattern: regex.pattern, special_tokens: SPECIALS },
    { chunks: gpt2Regex.split(regexTrainText), num_merges: 100, encode_chunks: gpt2Regex.split(heldOut), pattern: GPT2_SPLIT_PATTERN, special_tokens: {} },
    { chunks: [tieText], num_merges: 600, encode_chunks: [heldOut], pattern: "", special_tokens: {} },
    { chunks: regexTies.split(tieText), num_merges: 600, encode_chunks: regexTies.split(heldOut), pattern: regexTies.pattern, special_tokens: {} },
  ]);

  it("BasicTokenizer learns the same merges in the same order, with the same counts", () => {
    expect(basic.merges).toEqual(basicRef.merges.map(([a, b]) => [a, b]));
    expect(basicEvents.map((e) => e.count)).toEqual(basicRef.merges.map(([, , count]) => count));
    expect(basicEvents[0]).toMatchObject({ step: 1, total: 120, id: 256 });
  });

  it("RegexTokenizer (GPT-4 and GPT-2 patterns) learns the same merges", () => {
    expect(regex.merges).toEqual(regexRef.merges.map(([a, b]) => [a, b]));
    expect(gpt2Regex.merges).toEqual(gpt2Ref.merges.map(([a, b]) => [a, b]));
  });

  it("breaks ties like minbpe deep into training, and stops when no pair is left", () => {
    expect(basicTies.merges).toEqual(basicTiesRef.merges.map(([a, b]) => [a, b]));
    expect(basicTiesRef.merges.filter(([, , count]) => count <= 2).length).toBeGreaterThan(100);
    expect(regexTies.merges).toEqual(regexTiesRef.merges.map(([a, b]) => [a, b]));
    expect(regexTies.merges.length).toBeLessThan(600);
    expect(basicTies.encode(heldOut)).toEqual(basicTiesRef.encoded);
  });

  it("encodes held-out text to the same ids", () => {
    expect(basic.encode(heldOut)).toEqual(basicRef.encoded);
    expect(regex.encode(heldOut)).toEqual(regexRef.encoded);
    expect(gpt2Regex.encode(heldOut)).toEqual(gpt2Ref.encoded);
  });

  it("writes minbpe's .model and .vocab byte for byte", () => {
    expect(regex.toModelText()).toBe(regexRef.model);
    expect(regex.toVocabText()).toBe(regexRef.vocab);
    expect(basic.toModelText()).toBe(basicRef.model);
    expect(basic.toVocabText()).toBe(basicRef.vocab);
  });
});

describe("small cases", () => {
  it("the Wikipedia example: aaabdaaabac with 3 merges is [258, 100, 258, 97, 99]", () => {
    for (const tokenizer of [new BasicTokenizer(), new RegexTokenizer()]) {
      tokenizer.train("aaabdaaabac", 256 + 3);
      expect(tokenizer.encode("aaabdaaabac")).toEqual([258, 100, 258, 97, 99]);
      expect(tokenizer.merges).toEqual([[97, 97], [256, 97], [257, 98]]);
      expect(tokenizer.decode([258, 100, 258, 97, 99])).toBe("aaabdaaabac");
    }
  });

  it("overlapping pairs merge left to right (aaaaa -> [X, X, a])", () => {
    const tokenizer = new BasicTokenizer().train("aaaaa", 257);
    expect(tokenizer.encode("aaaaa")).toEqual([256, 256, 97]);
  });

  it("ties go to the pair seen first, and training stops when nothing is left to merge", () => {
    const tokenizer = new BasicTokenizer().train("xyab", 256 + 10);
    expect(tokenizer.merges).toEqual([[120, 121], [256, 97], [257, 98]]);
    expect(tokenizer.vocabSize).toBe(259);
  });

  it("rejects a vocabulary smaller than the 256 bytes", () => {
    expect(() => new BasicTokenizer().train("abc", 100)).toThrow(RangeError);
  });
});

describe("encode -> decode is the identity", () => {
  const tokenizer = new RegexTokenizer().train(taylor.slice(0, 30_000), 256 + 200);
  const basic = new BasicTokenizer().train(taylor.slice(0, 10_000), 256 + 100);
  const rng = new Rng(7);
  const alphabet = ["a", "b", " ", "\n", "é", "中", "😀", "'s", "1", "23", "\t", "\u0000", "\ufeff", "!", "ſ"];
  const strings = [
    "",
    "?",
    "hello world!!!? (안녕하세요!) lol123 😉",
    "\ufeffstarts with a byte order mark",
    taylor,
    ...Array.from({ length: 500 }, () => Array.from({ length: rng.randint(0, 30) }, () => alphabet[rng.randint(0, alphabet.length)]).join("")),
  ];

  it("for well-formed strings, with both tokenizers", () => {
    for (const text of strings) {
      expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
      expect(basic.decode(basic.encode(text))).toBe(text);
      expect(concatBytes(tokenizer.decodeTokenBytes(tokenizer.encode(text)))).toEqual(utf8Encode(text));
    }
  });

  it("lone surrogates come back as U+FFFD (they have no UTF-8 bytes)", () => {
    expect(tokenizer.decode(tokenizer.encode("a\ud800b\udc00"))).toBe("a\ufffdb\ufffd");
    expect(basic.decode(basic.encode("\udbff"))).toBe("\ufffd");
  });

  it("decoding invalid UTF-8 replaces like Python's errors=\"replace\"", () => {
    const cases = [[0xff], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80], [0x61, 0xe2, 0x62], [0xe2, 0x82, 0x41], [0xef, 0xbb, 0xbf, 0x61]];
    const script = "import json,sys; print(json.dumps([bytes(c).decode('utf-8','replace') for c in json.load(sys.stdin)]))";
    const result = spawnSync("/usr/bin/python3", ["-c", script], { input: JSON.stringify(cases), encoding: "utf8" });
    const expected = JSON.parse(result.stdout) as string[];
    const bytesOnly = new BasicTokenizer(); // ids 0..255 are the bytes
    expect(cases.map((bytes) => bytesOnly.decode(bytes))).toEqual(expected);
  });

  it("rejects ids that are not tokens", () => {
    expect(() => tokenizer.decode([256 + 200])).toThrow(/Invalid token id/);
  });
});

describe("special tokens on a trained tokenizer", () => {
  const text = [
    "<|endoftext|>The llama is a domesticated South American camelid.",
    "<|fim_prefix|>In Aymara mythology, llamas are important beings.<|fim_suffix|> at the end of time.<|fim_middle|> llamas will return<|endofprompt|>",
  ].join("\n");
  const specials = { "<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259, "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276 };
  const tokenizer = new RegexTokenizer().train(taylor.slice(0, 20_000), 256 + 64);
  tokenizer.registerSpecialTokens(specials);

  it("\"all\" encodes them as their ids; \"none\" as text; \"none_raise\" raises", () => {
    const ids = tokenizer.encode(text, { allowedSpecial: "all" });
    expect(ids[0]).toBe(100257);
    expect(ids.filter((id) => id >= 100257)).toEqual([100257, 100258, 100260, 100259, 100276]);
    expect(tokenizer.decode(ids)).toBe(text);
    const ordinary = tokenizer.encode(text, { allowedSpecial: "none" });
    expect(ordinary.every((id) => id < 256 + 64)).toBe(true);
    expect(ordinary).toEqual(tokenizer.encodeOrdinary(text));
    expect(() => tokenizer.encode(text)).toThrow(/special token <\|endoftext\|>/);
    expect(() => tokenizer.encode(text, { allowedSpecial: "sometimes" as never })).toThrow(/allowedSpecial/);
  });

  it("save -> load gives the same tokenizer (minbpe's test_save_load)", () => {
    const dir = mkdtempSync(join(tmpdir(), "tok-"));
    try {
      const ids = tokenizer.encode(text, { allowedSpecial: "all" });
      tokenizer.save(join(dir, "llama"));
      const loaded = loadTokenizer(join(dir, "llama.model")) as RegexTokenizer;
      expect(loaded).toBeInstanceOf(RegexTokenizer);
      expect(loaded.decode(ids)).toBe(text);
      expect(loaded.encode(text, { allowedSpecial: "all" })).toEqual(ids);
      expect([...loaded.specialTokens]).toEqual(Object.entries(specials));
      expect(readFileSync(join(dir, "llama.vocab"), "utf8")).toContain("[ ][t] -> [ t]");
      const basic = new BasicTokenizer().train("hello hello hello", 260);
      basic.save(join(dir, "basic"));
      expect(loadTokenizer(join(dir, "basic"))).toBeInstanceOf(BasicTokenizer);
      expect(new BasicTokenizer().load(join(dir, "basic.model")).merges).toEqual(basic.merges);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads a .model written by minbpe (Windows line endings too)", () => {
    const dir = mkdtempSync(join(tmpdir(), "tok-"));
    try {
      writeFileSync(join(dir, "m.model"), "minbpe v1\r\n\r\n1\r\n<|endoftext|> 300\r\n104 101\r\n256 108\r\n");
      const loaded = loadTokenizer(join(dir, "m.model"));
      expect(loaded).toBeInstanceOf(BasicTokenizer);
      expect(loaded.encode("hel<|endoftext|>", { allowedSpecial: "all" })).toEqual([257, 300]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

afterAll(() => undefined);
