// Command-line flags: parseFlags against hand-written expectations (types, ranges, booleans, typos),
// the train script's schema covering every setting, the data-size check, generate's option checks.
import { beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../lib/engine/index.js";
import { GPT } from "../lib/models/gpt/index.js";
import { checkSampleOptions, generate } from "../lib/sample/index.js";
import {
  PRESETS, SETTING_RANGES, TRAIN_DEFAULTS, checkFitsBlock, closestName, describeSpec, editDistance, formatHelp, getBatch,
  parseFlags, trainFlags, type FlagSchema,
} from "../lib/train/index.js";
import { UsageError, errorLine } from "../lib/util/cli.js";
import { Rng } from "../lib/util/random.js";

const schema = {
  rate: { type: "number", min: 0, default: 0.5, help: "a rate" },
  steps: { type: "integer", min: 1, default: 10, help: "steps" },
  p: { type: "number", above: 0, max: 1, help: "a probability" },
  bias: { type: "boolean", default: false, help: "bias" },
  backend: { type: "string", choices: ["cpu", "wasm"], help: "backend" },
  temperature: { type: "number", min: 0, default: 1, help: "temperature" },
} satisfies FlagSchema;

/** The UsageError message parseFlags throws for argv. */
function usageError(argv: string[], s: FlagSchema = schema): string {
  try {
    parseFlags(argv, s);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`parseFlags accepted ${argv.join(" ")}`);
}

describe("parseFlags", () => {
  it("reads --a=1, --a 1, kebab and camel spellings, defaults, and which flags were given", () => {
    const { values, given } = parseFlags(["--rate=0.25", "--backend", "wasm", "--bias"], schema);
    expect(values).toEqual({ rate: 0.25, steps: 10, p: undefined, bias: true, backend: "wasm", temperature: 1 });
    expect([...given].sort()).toEqual(["backend", "bias", "rate"]);
    const iters = { maxIters: { type: "integer", min: 0, help: "" } } satisfies FlagSchema;
    for (const spelling of ["--max_iters", "--max-iters", "--maxIters"]) expect(parseFlags([spelling, "3"], iters).values.maxIters).toBe(3);
    expect(parseFlags(["--bias", "false", "--steps=1e3"], schema).values).toMatchObject({ bias: false, steps: 1000 });
    expect(parseFlags(["--bias=true"], schema).values.bias).toBe(true);
    expect(parseFlags(["-h"], schema).help).toBe(true);
  });

  it("booleans take true or false only", () => {
    expect(usageError(["--bias=no"])).toBe("--bias=no: expected true or false");
    expect(usageError(["--bias=yes"])).toBe("--bias=yes: expected true or false");
    expect(usageError(["--bias=1"])).toBe("--bias=1: expected true or false");
    // "--bias no" leaves "no" as a stray argument, not the value
    expect(usageError(["--bias", "no"])).toMatch(/^unexpected argument "no"/);
  });

  it("numbers must parse and lie in range, integers must be whole", () => {
    expect(usageError(["--rate=abc"])).toBe("--rate=abc: expected a number ≥ 0");
    expect(usageError(["--rate=-1"])).toBe("--rate=-1: expected a number ≥ 0");
    expect(usageError(["--rate", "-1"])).toBe("--rate=-1: expected a number ≥ 0");
    expect(usageError(["--rate="])).toBe("--rate=: expected a number ≥ 0");
    expect(usageError(["--rate=NaN"])).toBe("--rate=NaN: expected a number ≥ 0");
    expect(usageError(["--rate=Infinity"])).toBe("--rate=Infinity: expected a number ≥ 0");
    expect(usageError(["--steps=1.5"])).toBe("--steps=1.5: expected an integer ≥ 1");
    expect(usageError(["--steps=0"])).toBe("--steps=0: expected an integer ≥ 1");
    expect(usageError(["--p=0"])).toBe("--p=0: expected a number in (0, 1]");
    expect(usageError(["--p=1.5"])).toBe("--p=1.5: expected a number in (0, 1]");
    expect(parseFlags(["--p=1"], schema).values.p).toBe(1);
    expect(parseFlags(["--rate=0"], schema).values.rate).toBe(0);
    expect(usageError(["--steps"])).toBe("--steps needs a value (an integer ≥ 1)");
    expect(usageError(["--steps", "--bias"])).toBe("--steps needs a value (an integer ≥ 1)");
  });

  it("unknown flags and choices name the closest valid one", () => {
    expect(usageError(["--tempreature", "1"])).toBe("unknown flag --tempreature; did you mean --temperature? (see --help)");
    expect(usageError(["--bogus"])).toBe("unknown flag --bogus (see --help)");
    expect(usageError(["--backend=wsam"])).toBe("--backend=wsam: expected one of cpu, wasm (did you mean wasm?)");
    expect(usageError(["--constructor=1"])).toMatch(/^unknown flag --constructor/); // not an Object.prototype key
    expect(usageError(["stray"])).toMatch(/^unexpected argument "stray"/);
    expect(parseFlags(["a", "--bias", "b"], schema, { positionals: "names" }).positionals).toEqual(["a", "b"]);
  });

  it("edit distance by hand", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("tempreature", "temperature")).toBe(2);
    expect(closestName("max_iter", ["max_iters", "eval_iters"])).toBe("max_iters");
    expect(closestName("zzz", ["max_iters", "eval_iters"])).toBeUndefined();
  });

  it("describes ranges and prints help with defaults", () => {
    expect(describeSpec({ type: "number", min: 0, below: 1, help: "" })).toBe("a number in [0, 1)");
    expect(describeSpec({ type: "integer", max: 5, help: "" })).toBe("an integer ≤ 5");
    const help = formatHelp("usage: x", schema);
    expect(help.split("\n")[0]).toBe("usage: x");
    expect(help).toMatch(/--rate NUMBER\s+a rate \(a number ≥ 0; default 0\.5\)/);
    expect(help).toMatch(/--bias\s+bias \(true or false; default false\)/);
  });
});

describe("npm run train's flags", () => {
  const flags = trainFlags(PRESETS["shakespeare-char-cpu"], "shakespeare-char-cpu");

  it("cover every training and model setting, typed by the preset's values", () => {
    for (const key of Object.keys(TRAIN_DEFAULTS)) expect(flags[key], key).toBeDefined();
    for (const key of Object.keys(PRESETS["shakespeare-char"].model)) expect(flags[key], key).toBeDefined();
    expect(Object.keys(SETTING_RANGES).sort()).toEqual([...Object.keys(TRAIN_DEFAULTS), ...Object.keys(PRESETS["shakespeare-char"].model)].sort());
    expect(flags.bias.type).toBe("boolean");
    expect(flags.alwaysSaveCheckpoint.type).toBe("boolean");
    expect(flags.maxIters).toMatchObject({ type: "integer", default: 2000 });
    expect(flags.learningRate).toMatchObject({ type: "number", default: 1e-3 });
    expect(flags.outDir).toMatchObject({ type: "string", default: "out/shakespeare-char-cpu" });
  });

  it("reject the values issue 8 lists", () => {
    expect(usageError(["--bias=no"], flags)).toBe("--bias=no: expected true or false");
    expect(usageError(["--learning_rate=abc"], flags)).toBe("--learning_rate=abc: expected a number ≥ 0");
    expect(usageError(["--learning_rate=-1"], flags)).toBe("--learning_rate=-1: expected a number ≥ 0");
    expect(usageError(["--grad_clip=-1"], flags)).toBe("--grad_clip=-1: expected a number ≥ 0");
    expect(usageError(["--seed=abc"], flags)).toBe("--seed=abc: expected an integer in [0, 4294967295]");
    expect(usageError(["--always_save_checkpoint=yes"], flags)).toBe("--always_save_checkpoint=yes: expected true or false");
    expect(usageError(["--dropout=1"], flags)).toBe("--dropout=1: expected a number in [0, 1)");
    expect(usageError(["--beta2=1"], flags)).toBe("--beta2=1: expected a number in [0, 1)");
    expect(usageError(["--n_head=0"], flags)).toBe("--n_head=0: expected an integer ≥ 1");
    expect(usageError(["--max_iter=5"], flags)).toBe("unknown flag --max_iter; did you mean --max_iters? (see --help)");
    expect(usageError(["--preset=shakespeare"], flags)).toMatch(/^--preset=shakespeare: expected one of shakespeare-char, shakespeare-char-cpu/);
    expect(usageError(["--backend=gpu"], flags)).toMatch(/^--backend=gpu: expected one of tensorflow, webgpu, wasm, cpu, auto/);
  });

  it("accept nanoGPT's spellings", () => {
    const { values, given } = parseFlags(["--max_iters=20", "--n-layer", "2", "--learningRate", "3e-4", "--bias=True".toLowerCase(), "--resume"], flags);
    expect(values).toMatchObject({ maxIters: 20, nLayer: 2, learningRate: 3e-4, bias: true, resume: true, evalIters: 20 });
    expect([...given].sort()).toEqual(["bias", "learningRate", "maxIters", "nLayer", "resume"]);
  });
});

describe("data size against block_size", () => {
  const tokens = Uint16Array.from({ length: 100 }, (_, i) => i % 7);

  it("checkFitsBlock names the split and its size", () => {
    expect(() => checkFitsBlock(tokens, 4_000_000_000_000, "the validation split")).toThrow(
      "block_size 4000000000000 is larger than the validation split (100 tokens): each window needs block_size + 1 tokens",
    );
    expect(() => checkFitsBlock(tokens, 100, "the data")).toThrow(/block_size 100 is larger than the data \(100 tokens\)/);
    expect(() => checkFitsBlock(tokens, 99, "the data")).not.toThrow(); // 99 inputs + 1 target
    expect(() => checkFitsBlock(tokens, 2.5, "the data")).toThrow("block_size must be a positive integer, got 2.5");
  });

  it("getBatch checks before allocating", async () => {
    await useBackend("cpu");
    expect(() => getBatch(tokens, 4e12, 4, new Rng(1))).toThrow(/block_size 4000000000000 is larger than the data/);
    expect(() => getBatch(tokens, 8, 0, new Rng(1))).toThrow("getBatch: batch_size must be a positive integer, got 0");
    expect(() => getBatch(tokens, 8, 1.5, new Rng(1))).toThrow("getBatch: batch_size must be a positive integer, got 1.5");
  });
});

describe("generate's options", () => {
  beforeAll(async () => {
    await useBackend("cpu");
  });

  it("throw a RangeError before sampling anything", async () => {
    const model = new GPT({ vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4, dropout: 0, bias: false });
    const bad: [object, RegExp][] = [
      [{ maxNewTokens: -5 }, /maxNewTokens must be a non-negative integer, got -5/],
      [{ maxNewTokens: 1.5 }, /maxNewTokens must be a non-negative integer, got 1.5/],
      [{ maxNewTokens: 3, topP: 1.5 }, /topP must be in \(0, 1\], got 1.5/],
      [{ maxNewTokens: 3, topP: 0 }, /topP must be in \(0, 1\], got 0/],
      [{ maxNewTokens: 3, topK: 1.5 }, /topK must be a positive integer, got 1.5/],
      [{ maxNewTokens: 3, topK: 0 }, /topK must be a positive integer, got 0/],
      [{ maxNewTokens: 3, temperature: -1 }, /temperature must be a finite number >= 0/],
      [{ maxNewTokens: 3, temperature: NaN }, /temperature must be a finite number >= 0/],
    ];
    for (const [options, message] of bad) {
      let tokens = 0;
      await expect(generate(model, [1], { ...options, onToken: () => void tokens++ } as never)).rejects.toThrow(message);
      expect(tokens).toBe(0);
    }
    expect(() => checkSampleOptions({ topK: 50, topP: 1, temperature: 0 })).not.toThrow();
    expect(await generate(model, [1], { maxNewTokens: 0 })).toEqual([1]);
    model.dispose();
  });
});

describe("errorLine", () => {
  it("is one line, or the stack with COURSE_DEBUG=1", () => {
    const error = new Error("first\n  second");
    expect(errorLine(error)).toBe("error: first second");
    process.env.COURSE_DEBUG = "1";
    try {
      expect(errorLine(error)).toContain("args.test.ts");
    } finally {
      delete process.env.COURSE_DEBUG;
    }
  });
});
