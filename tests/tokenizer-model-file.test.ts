/**
 * minbpe's .model format read strictly: each malformed file is an Error naming the line (and the
 * file when read from a path), never a TypeError or a tokenizer with NaN ids. Then a seeded fuzz of
 * mutated model files: every case parses to a model that round-trips and encodes, or is refused.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  BasicTokenizer, RegexTokenizer, formatModel, loadTokenizer, parseModel, type BpeModelData,
} from "../lib/tokenizers/index.js";
import { Rng } from "../lib/util/random.js";

const dir = mkdtempSync(join(tmpdir(), "model-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The error parseModel throws for `text`, checked to be a plain Error (not TypeError, RangeError...). */
function parseError(text: string): Error {
  try {
    parseModel(text);
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).constructor).toBe(Error);
    return error as Error;
  }
  throw new Error(`parsed without an error: ${JSON.stringify(text)}`);
}

const header = "minbpe v1\n\n";

describe("parseModel rejects malformed minbpe files with the line number", () => {
  const cases: [string, string, RegExp][] = [
    ["a missing special-token line", `${header}2\n<|a|> 300\n`, /^line 5 of the \.model text: the file ends after 1 of the 2 special-token lines$/],
    ["a blank special-token line", `${header}1\n\n97 98\n`, /^line 4 of .*: a special-token line is "<name> <id>", found ""$/],
    ["a whitespace-only special-token line", `${header}1\n   \n`, /^line 4 of .*: a special-token line is "<name> <id>", found "   "$/],
    ["a special line without an id", `${header}1\n<|endoftext|>\n`, /^line 4 of .*: a special-token line is "<name> <id>", found "<\|endoftext\|>"$/],
    ["a non-integer special id", `${header}1\n<|e|> 3x\n`, /^line 4 of .*: special token <\|e\|>: the id must be a non-negative integer, found "3x"$/],
    ["a fractional special id", `${header}1\n<|e|> 300.5\n`, /^line 4 .*non-negative integer, found "300\.5"$/],
    ["a negative special id", `${header}1\n<|e|> -300\n`, /^line 4 .*non-negative integer, found "-300"$/],
    ["a special id that is a byte token", `${header}1\n<|e|> 97\n`, /^line 4 .*<\|e\|> has id 97, already a byte or merge token \(special ids start at 256\)$/],
    ["a special id that is a merge token", `${header}1\n<|e|> 256\n97 98\n`, /^line 4 .*id 256, already a byte or merge token \(special ids start at 257\)$/],
    ["a repeated special name", `${header}2\n<|e|> 300\n<|e|> 301\n`, /^line 5 .*repeats the name or id of line 4$/],
    ["a repeated special id", `${header}2\n<|a|> 300\n<|b|> 300\n`, /^line 5 .*repeats the name or id of line 4$/],
    ["a bad special-token count", `${header}x\n`, /^line 3 .*number of special tokens must be a non-negative integer, found "x"$/],
    ["a negative special-token count", `${header}-1\n`, /^line 3 .*found "-1"$/],
    ["a missing special-token count", "minbpe v1\n\n", /^line 3 .*missing: the number of special tokens$/],
    ["only the version line, no final newline", "minbpe v1", /^line 2 .*missing: the split pattern/],
    ["a merge line -1 5", `${header}0\n-1 5\n`, /^line 4 .*merge ids must be non-negative integers, found "-1 5"$/],
    ["a merge of three numbers", `${header}0\n97 98 99\n`, /^line 4 .*a merge line is two ids "<a> <b>", found "97 98 99"$/],
    ["a merge of one number", `${header}0\n97 98\n99\n`, /^line 5 .*two ids .*found "99"$/],
    ["a merge using its own id", `${header}0\n256 97\n`, /^line 4 .*merge 0 makes id 256 from \(256, 97\), but id 256 is not defined yet$/],
    ["a merge using a later id", `${header}0\n97 98\n97 300\n`, /^line 5 .*merge 1 makes id 257 from \(97, 300\), but id 300 is not defined yet$/],
    ["a repeated merge", `${header}0\n97 98\n99 100\n97 98\n`, /^line 6 .*merge \(97, 98\) repeats line 4$/],
    ["a blank line among the merges", `${header}0\n97 98\n\n99 100\n`, /^line 5 .*blank line among the merges/],
    ["an id past 2^31", `${header}0\n97 98\n${2 ** 31} 97\n`, /^line 5 .*non-negative integers/],
    ["a pattern that does not compile", "minbpe v1\n(unclosed\n0\n", /^line 2 .*Split pattern is not a valid JavaScript regex/],
    ["another format", "chars v9\n", /^line 1 .*expected "minbpe v1", found "chars v9" \(not a minbpe model\)$/],
    ["an empty file", "", /^line 1 .*expected "minbpe v1", found ""/],
  ];
  it.each(cases)("%s", (_, text, message) => {
    expect(parseError(text).message).toMatch(message);
  });

  it("reads a file without a final newline like the same file with one", () => {
    const text = `${header}1\n<|e|> 300\n97 98\n256 99`;
    expect(parseModel(text)).toEqual(parseModel(`${text}\n`));
    expect(parseModel(text)).toEqual({ pattern: "", specialTokens: [["<|e|>", 300]], merges: [[97, 98], [256, 99]] });
    expect(parseModel(`${header}0`)).toEqual({ pattern: "", specialTokens: [], merges: [] });
    const path = join(dir, "no-newline.model");
    writeFileSync(path, text);
    const tokenizer = loadTokenizer(path);
    expect(tokenizer.encode("abcab<|e|>", { allowedSpecial: "all" })).toEqual([257, 256, 300]);
  });

  it("names the file when loading from a path (loadTokenizer and load)", () => {
    const path = join(dir, "broken.model");
    writeFileSync(path, `${header}1\n<|endoftext|>\n97 98\n`);
    expect(() => loadTokenizer(path)).toThrow(`line 4 of ${path}: a special-token line is "<name> <id>", found "<|endoftext|>"`);
    expect(() => new BasicTokenizer().load(path)).toThrow(`line 4 of ${path}:`);
    writeFileSync(path, "minbpe v1\n\\p{L}+\n0\n97 98 99\n");
    expect(() => loadTokenizer(path)).toThrow(`line 4 of ${path}: a merge line is two ids`);
  });
});

// ---------------------------------------------------------------------------------------------
// Fuzz: seeded mutations of a real model file.

const sample = readFileSync("data/taylorswift.txt", "utf8").slice(0, 3000);
const specials = { "<|endoftext|>": 300, "<|fim_prefix|>": 301 };

function baseModels(): string[] {
  const regex = new RegexTokenizer().train(sample, 256 + 40);
  regex.registerSpecialTokens(specials);
  const basic = new BasicTokenizer().train(sample, 256 + 20);
  return [regex.toModelText(), basic.toModelText()];
}

type Mutation = (lines: string[], rng: Rng) => string[];
const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.randint(0, items.length)];
const numbers = ["-1", "0", "1", "97", "255", "256", "257", "295", "296", "299", "300", "1e3", "3.5", "x", "", "2147483648", "99999"];

const lineMutations: Mutation[] = [
  (lines, rng) => lines.filter((_, i) => i !== rng.randint(0, lines.length)), // delete a line
  (lines, rng) => {
    const i = rng.randint(0, lines.length);
    return [...lines.slice(0, i), lines[i], ...lines.slice(i)]; // duplicate a line
  },
  (lines, rng) => {
    const out = [...lines];
    const i = rng.randint(0, out.length);
    const j = rng.randint(0, out.length);
    [out[i], out[j]] = [out[j], out[i]]; // swap two lines
    return out;
  },
  (lines, rng) => {
    const out = [...lines]; // change one number on a line
    const i = rng.randint(0, out.length);
    const fields = out[i].split(" ");
    fields[rng.randint(0, fields.length)] = pick(rng, numbers);
    out[i] = fields.join(" ");
    return out;
  },
  (lines, rng) => {
    const out = [...lines]; // insert a stray line
    out.splice(rng.randint(0, out.length + 1), 0, pick(rng, ["", " ", "97 98 99", "-1 5", "<|x|>", "<|x|> 400", "1 2", "\t", "minbpe v1"]));
    return out;
  },
  (lines, rng) => {
    const out = [...lines]; // blank a line
    out[rng.randint(0, out.length)] = "";
    return out;
  },
];

const byteMutations: ((bytes: Buffer, rng: Rng) => Buffer)[] = [
  (bytes, rng) => {
    const out = Buffer.from(bytes); // flip a byte
    out[rng.randint(0, out.length)] ^= 1 << rng.randint(0, 8);
    return out;
  },
  (bytes, rng) => {
    const out = Buffer.from(bytes); // overwrite a byte with a format character
    out[rng.randint(0, out.length)] = pick(rng, [0x0a, 0x0d, 0x20, 0x2d, 0x30, 0x39, 0x00, 0xff]);
    return out;
  },
  (bytes, rng) => bytes.subarray(0, rng.randint(0, bytes.length)), // truncate
  (bytes) => bytes.subarray(0, bytes.length - 1), // drop the final newline
  (bytes) => Buffer.from(bytes.toString("latin1").replace(/\n/g, "\r\n"), "latin1"), // CRLF
];

function mutate(text: string, rng: Rng): string {
  let current = text;
  const steps = rng.randint(1, 4);
  for (let step = 0; step < steps; step++) {
    if (rng.random() < 0.5 || current.length === 0) {
      current = pick(rng, lineMutations)(current.split("\n"), rng).join("\n");
    } else {
      current = pick(rng, byteMutations)(Buffer.from(current, "utf8"), rng).toString("utf8");
    }
  }
  return current;
}

/** A model that parsed must survive formatting, re-parsing, loading, encoding and decoding. */
function exercise(model: BpeModelData, text: string): void {
  const again = parseModel(formatModel(model));
  expect(again).toEqual(model);
  const tokenizer = model.pattern === "" ? new BasicTokenizer() : new RegexTokenizer(model.pattern);
  tokenizer.loadModelText(text);
  expect(Number.isInteger(tokenizer.vocabSize)).toBe(true);
  const probe = `${sample.slice(0, 200)}${model.specialTokens[0]?.[0] ?? ""} the end`;
  const ids = tokenizer.encode(probe, { allowedSpecial: "all" });
  expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < tokenizer.vocabSize)).toBe(true);
  tokenizer.decode(ids);
  if (model.pattern === "") expect(tokenizer.decode(ids)).toBe(probe);
}

const refusalKinds: [RegExp, string][] = [
  [/^expected "minbpe v1"/, "not a minbpe model"],
  [/^Split pattern/, "pattern does not compile"],
  [/^missing: /, "header line missing"],
  [/^the number of special tokens/, "bad special-token count"],
  [/^the file ends after/, "special-token lines missing"],
  [/^a special-token line is/, "malformed special-token line"],
  [/^special token .*: the id must/, "bad special-token id"],
  [/repeats the name or id/, "repeated special token"],
  [/already a byte or merge token/, "special id is a BPE id"],
  [/^a blank line among the merges/, "blank merge line"],
  [/^a merge line is two ids/, "merge line without two fields"],
  [/^merge ids must be/, "bad merge id"],
  [/is not defined yet$/, "merge uses an undefined id"],
  [/^merge \(\d+, \d+\) repeats/, "repeated merge"],
];

function refusalKind(message: string): string {
  const problem = message.replace(/^line \d+ of the \.model text: /, "");
  return refusalKinds.find(([pattern]) => pattern.test(problem))?.[1] ?? `unexpected: ${problem}`;
}

describe(".model fuzz", () => {
  it("every mutated file either round-trips and encodes, or is refused with its line number", () => {
    const cases = 20_000;
    const rng = new Rng(20261201);
    const bases = baseModels();
    for (const base of bases) exercise(parseModel(base), base);
    const counts: Record<string, number> = {};
    const started = performance.now();
    for (let n = 0; n < cases; n++) {
      const text = mutate(bases[n % bases.length], rng);
      let outcome: string;
      let model: BpeModelData | null = null;
      try {
        model = parseModel(text);
        outcome = "parsed, round-trips, encodes";
      } catch (error) {
        if (!(error instanceof Error) || error.constructor !== Error || !/^line \d+ of the \.model text: /.test(error.message)) {
          throw new Error(`case ${n}: ${String(error)} for ${JSON.stringify(text.slice(0, 300))}`);
        }
        outcome = `refused: ${refusalKind(error.message)}`;
      }
      if (model) {
        try {
          exercise(model, text);
        } catch (error) {
          throw new Error(`case ${n} parsed but then failed: ${String(error)} for ${JSON.stringify(text.slice(0, 300))}`);
        }
      }
      counts[outcome] = (counts[outcome] ?? 0) + 1;
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`.model fuzz: ${cases} cases in ${seconds.toFixed(1)} s`, counts);
    expect(Object.keys(counts).filter((kind) => kind.startsWith("refused: unexpected"))).toEqual([]);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(cases);
    // Both outcomes occur often: the fuzz reaches the parser's checks and the tokenizer behind them.
    expect(counts["parsed, round-trips, encodes"]).toBeGreaterThan(cases / 20);
    expect(cases - counts["parsed, round-trips, encodes"]).toBeGreaterThan(cases / 5);
  });
});
