// Running and resuming: a run killed with SIGKILL mid-way resumes and ends with each sample once,
// its tally summed over both parts; torn lines, mismatched run folders, the EvalResult JSON shape
// (Evalugator's, checked against a file in its shape and by an independent Python checker) and the
// polars frame.
import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  ConcurrencyLimit,
  Tally,
  arithmeticEval,
  evalResultFromJson,
  evalResultJson,
  accuracyBySplit,
  countResults,
  makeBatch,
  mcQuestion,
  qaSample,
  readRunLog,
  requestError,
  resultsFrame,
  runEval,
  type EvalSpec,
  type GetTextRequest,
  type Provider,
} from "../lib/evals/index.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "evals-run-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A solver that knows every answer (right on even-indexed samples, silent on every fifth), counting what it is asked. */
function oracle(spec: EvalSpec, delayMs = 0): Provider & { asked: string[] } {
  const byQuestion = new Map(spec.samples.map((s, i) => [spec.render(s)[1].content, { s, i }]));
  const asked: string[] = [];
  return {
    model: "oracle",
    tally: new Tally(),
    asked,
    async getText(request: GetTextRequest) {
      const { s, i } = byQuestion.get(request.prompt[1].content)!;
      asked.push(s.id);
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      const text = i % 5 === 4 ? "I am not sure." : i % 2 === 0 ? spec.correctOutput(s) : "-999999.5";
      const usage = { inputTokens: 10 + i, outputTokens: text.length };
      this.tally.add(usage);
      return { model: "oracle", text, finishReason: "stop", usage };
    },
  };
}

function lines(path: string): string[] {
  return readFileSync(path, "utf8").split("\n").filter(Boolean);
}

/** The lines of a run log that hold sample results (not the header or tallies). */
function sampleLines(path: string): string[] {
  return lines(path).filter((l) => !/^\{"type":"(header|tally)"/.test(l));
}

describe("runEval", () => {
  const spec = arithmeticEval({ n: 60, maxDepth: 4, seed: 21 });

  it("scores, counts unparsed replies and keeps sample order", async () => {
    const result = await runEval(spec, oracle(spec));
    expect(result.sample_results.map((r) => r.sample.id)).toEqual(spec.samples.map((s) => s.id));
    expect(result.counts).toEqual({ total_correct: 24, total_incorrect: 36, incorrect_and_unparsable: 12, incorrect_and_parsable: 24 });
    expect(result.accuracy).toBeCloseTo(0.4, 12);
    const first = result.sample_results[0];
    expect(first.output_correct).toBe(spec.correctOutput(spec.samples[0]));
    expect(first.input).toEqual(spec.render(spec.samples[0]));
    // The tally counts this run only: a second run on the same provider starts from zero.
    const provider = oracle(spec);
    await runEval(spec, provider);
    const again = await runEval(spec, provider);
    const tokens = spec.samples.reduce((t, _s, i) => t + 10 + i, 0);
    expect(again.tally).toMatchObject({ requests: 60, retries: 0, failures: 0, input_tokens: tokens, cost_usd: null });
    expect(provider.tally.requests).toBe(120);
  });

  it("resumes an aborted run without asking finished samples again", async () => {
    const dir = tempDir();
    const first = oracle(spec, 2);
    const controller = new AbortController();
    let seen = 0;
    const stopped = runEval(spec, first, { runDir: dir, onProgress: () => ++seen === 25 && controller.abort(new Error("stop")) , signal: controller.signal });
    await expect(stopped).rejects.toThrow("stop");
    const logged = readRunLog(join(dir, "results.jsonl")).results.length;
    expect(logged).toBeGreaterThanOrEqual(25);
    expect(logged).toBeLessThan(60);
    const second = oracle(spec);
    const result = await runEval(spec, second, { runDir: dir });
    expect(second.asked.length).toBe(60 - logged);
    expect(result.sample_results.length).toBe(60);
    expect(sampleLines(join(dir, "results.jsonl")).length).toBe(60); // each sample once
    expect(evalResultFromJson(readFileSync(join(dir, "eval_result.json"), "utf8"))).toEqual(result);
    // Requests still in flight when the first part stopped may have been counted or not; each part's count is kept.
    expect(result.tally.requests).toBeGreaterThanOrEqual(60);
    expect(result.tally.requests).toBe(readRunLog(join(dir, "results.jsonl")).tally!.requests);
    expect(result.tally.requests - second.tally.requests).toBeGreaterThanOrEqual(logged);
  });

  it("asks nothing more once aborted: queued requests are dropped", async () => {
    const one = new ConcurrencyLimit(1);
    let asked = 0;
    const serial: Provider = {
      model: "serial",
      tally: new Tally(),
      getText: (request, options) =>
        one.run(async () => {
          asked++;
          await new Promise((r) => setTimeout(r, 2));
          return { model: "serial", text: "1", finishReason: "stop", usage: { inputTokens: 1, outputTokens: 1 } };
        }, options?.signal),
    };
    const controller = new AbortController();
    const run = runEval(spec, serial, { signal: controller.signal, onProgress: (done) => done === 10 && controller.abort(new Error("enough")) });
    await expect(run).rejects.toThrow("enough");
    await new Promise((r) => setTimeout(r, 100));
    expect(asked).toBeLessThanOrEqual(11);
  });

  it("resumes after SIGKILL of the process running it, each sample once", async () => {
    const dir = tempDir();
    const lib = resolve("lib/evals/index.ts");
    const script = join(dir, "child.mts");
    writeFileSync(
      script,
      `import { ConcurrencyLimit, arithmeticEval, runEval, Tally } from ${JSON.stringify(lib)};
const spec = arithmeticEval({ n: 60, maxDepth: 4, seed: 21 });
const answers = new Map(spec.samples.map((s) => [spec.render(s)[1].content, spec.correctOutput(s)]));
const one = new ConcurrencyLimit(1);
const tally = new Tally();
const provider = { model: "oracle", tally, getText: (r: any) => one.run(async () => {
  await new Promise((ok) => setTimeout(ok, 15));
  tally.add({ inputTokens: 7, outputTokens: 2 });
  return { model: "oracle", text: answers.get(r.prompt[1].content)!, finishReason: "stop", usage: { inputTokens: 7, outputTokens: 2 } };
}) };
await runEval(spec, provider, { runDir: ${JSON.stringify(join(dir, "run"))} });
`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const log = join(dir, "run", "results.jsonl");
    await new Promise<void>((done, fail) => {
      const timer = setInterval(() => {
        if (existsSync(log) && sampleLines(log).length >= 20) {
          clearInterval(timer);
          child.kill("SIGKILL");
          done();
        }
      }, 5);
      child.on("exit", () => (clearInterval(timer), fail(new Error(`the child finished before it was killed: ${stderr}`))));
    });
    await new Promise((r) => child.once("exit", r));
    const killed = readRunLog(log);
    const before = killed.results.length;
    expect(before).toBeGreaterThanOrEqual(20);
    expect(before).toBeLessThan(60);
    // Each sample line went out with the killed part's tally after it, so the log knows what that part cost.
    expect(killed.tally).toEqual({ requests: before, retries: 0, failures: 0, input_tokens: 7 * before, output_tokens: 2 * before, cost_usd: null });
    const resumed = oracle(spec);
    const result = await runEval(spec, resumed, { runDir: join(dir, "run") });
    expect(resumed.asked.length).toBe(60 - before);
    expect(new Set(result.sample_results.map((r) => r.sample.id)).size).toBe(60);
    expect(sampleLines(log).length).toBe(60);
    const resumedTokens = spec.samples.reduce((t, s, i) => t + (resumed.asked.includes(s.id) ? 10 + i : 0), 0);
    expect(result.tally).toMatchObject({ requests: 60, input_tokens: 7 * before + resumedTokens });
  });

  it("cuts a torn last line and asks that sample again; a failed request is asked again too", async () => {
    const dir = tempDir();
    const failing: Provider = { ...oracle(spec), async getText() { throw new Error("network down"); } };
    const small = { ...spec, samples: spec.samples.slice(0, 4) };
    const failed = await runEval(small, { ...oracle(small), getText: failing.getText }, { runDir: dir });
    expect(failed.sample_results.every((r) => requestError(r) === "network down")).toBe(true);
    appendFileSync(join(dir, "results.jsonl"), '{"sample": {"type": "QA", "id": "to');
    const again = oracle(small);
    const result = await runEval(small, again, { runDir: dir });
    expect(again.asked.length).toBe(4);
    expect(result.sample_results.every((r) => !requestError(r))).toBe(true);
    expect(readRunLog(join(dir, "results.jsonl")).results.length).toBe(4);
  });

  it("refuses a run folder of another eval or model, naming the file", async () => {
    const dir = tempDir();
    await runEval({ ...spec, samples: spec.samples.slice(0, 2) }, oracle(spec), { runDir: dir });
    const other = arithmeticEval({ n: 5, maxDepth: 2, seed: 1 });
    await expect(runEval(other, oracle(other), { runDir: dir })).rejects.toThrow(
      new RegExp(`^${join(dir, "results.jsonl").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: holds a run of eval ${spec.id} on oracle, not eval ${other.id} on oracle`),
    );
    writeFileSync(join(dir, "results.jsonl"), '{"type":"header","eval_spec_id":"x","model":"oracle","created_at":"t"}\n{"input": [], "output": "", "sample": 1, "score": 0}\n');
    await expect(runEval({ ...spec, id: "x" }, oracle(spec), { runDir: dir })).rejects.toThrow(/results\.jsonl: line 2\.sample: /);
    writeFileSync(join(dir, "results.jsonl"), '{"type":"header","eval_spec_id":"x","model":"oracle","created_at":"t"}\n{"input": [], "output": "", "sample": null, "score": 0}\n');
    await expect(runEval({ ...spec, id: "x" }, oracle(spec), { runDir: dir })).rejects.toThrow(/results\.jsonl: line 2\.sample: a run log's results each keep their sample/);
    writeFileSync(join(dir, "results.jsonl"), '{"type":"header","eval_spec_id":"x","model":"oracle","created_at":"t"}\n{"type":"tally","part":1,"requests":-1}\n');
    await expect(runEval({ ...spec, id: "x" }, oracle(spec), { runDir: dir })).rejects.toThrow(/results\.jsonl: line 2\.requests: /);
  });
});

describe("EvalResult JSON", () => {
  const spec = arithmeticEval({ n: 10, maxDepth: 2, seed: 4 });
  const EVALUGATOR_FILE = "tests/fixtures/evals-evalugator-result.json";
  const checker = (...args: string[]) => execFileSync("/usr/bin/python3", ["tests/reference/evalugator_structs.py", ...args], { encoding: "utf8" }).trim();
  /** The keys of an EvalResult, of its first sample result, of that one's sample, of its counts and of its eval spec, in order. */
  const shape = (r: any) => [Object.keys(r), Object.keys(r.sample_results[0]), Object.keys(r.sample_results[0].sample), Object.keys(r.counts), Object.keys(r.eval_spec)];

  it("loads a file in Evalugator's shape and writes it back the same, key for key", () => {
    const text = readFileSync(EVALUGATOR_FILE, "utf8");
    expect(checker(EVALUGATOR_FILE)).toBe(`${EVALUGATOR_FILE}: ok 2 sample results`); // the fixture is in Evalugator's shape
    const loaded = evalResultFromJson(text, EVALUGATOR_FILE);
    expect(evalResultJson(loaded)).toBe(JSON.stringify(JSON.parse(text), null, 2)); // the same keys, order and values
    expect(loaded.tally).toBeUndefined(); // our extension: absent in Evalugator's files
    // Our counting agrees with Evalugator's counts, and our tools read its results.
    expect(countResults(loaded.sample_results)).toEqual({ accuracy: loaded.accuracy, counts: loaded.counts });
    expect(accuracyBySplit(loaded, "depth").map((a) => [a.split, a.correct, a.unparsed])).toEqual([["1", 0, 1], ["2", 1, 0]]);
    expect(resultsFrame(loaded).getColumn("output_correct").toArray()).toEqual(["14", '["A"]']);
    // A field Evalugator may add later survives a load and a save.
    const later = { ...JSON.parse(text), new_field: { a: 1 } };
    expect(JSON.parse(evalResultJson(evalResultFromJson(later)))).toEqual(later);
  });

  it("fills Evalugator's defaults where a file leaves optional fields out", () => {
    const full = JSON.parse(readFileSync(EVALUGATOR_FILE, "utf8"));
    const sparse = JSON.parse(JSON.stringify(full));
    for (const key of ["counts", "confusion_table", "confusion_table_legend", "comments", "eval_spec", "command_run", "save_path"]) delete sparse[key];
    for (const key of ["other_output", "output_parsed", "output_correct"]) delete sparse.sample_results[1][key];
    for (const key of ["splits", "comments", "scores", "extra_template_vars", "created_by", "choices_order"]) delete sparse.sample_results[1].sample[key];
    const loaded = evalResultFromJson(sparse);
    expect(loaded).toMatchObject({ counts: null, confusion_table: null, comments: null, eval_spec: null, command_run: null, save_path: null });
    expect(loaded.confusion_table_legend).toBe(full.confusion_table_legend);
    expect(loaded.sample_results[1]).toMatchObject({ other_output: null, output_parsed: null, output_correct: null });
    expect(loaded.sample_results[1].sample).toMatchObject({ splits: {}, comments: null, scores: {}, extra_template_vars: {}, created_by: "unknown", choices_order: null });
    expect(Object.keys(loaded.sample_results[1].sample!)).toEqual(Object.keys(full.sample_results[1].sample)); // in Evalugator's order
    // Evalugator allows a result with no sample (a custom eval's); our tools put it under no split.
    const noSample = evalResultFromJson({ ...full, sample_results: [{ ...full.sample_results[0], sample: null }, full.sample_results[1]] });
    expect(noSample.sample_results[0].sample).toBeNull();
    expect(accuracyBySplit(noSample, "depth").map((a) => [a.split, a.n])).toEqual([["(none)", 1], ["1", 1]]);
    expect(resultsFrame(noSample).getColumn("id").toArray()).toEqual([null, "made-up-mcq-1"]);
    // A required field missing is named.
    delete sparse.sample_results[0].score;
    expect(() => evalResultFromJson(sparse, "sparse.json")).toThrow(/^sparse\.json\.sample_results\.0\.score: /);
  });

  it("writes our runs in Evalugator's shape, with the tally as the one field of ours", async () => {
    const dir = tempDir();
    const result = await runEval(spec, oracle(spec), { runDir: dir });
    const file = join(dir, "eval_result.json");
    const ours = JSON.parse(readFileSync(file, "utf8"));
    const theirs = JSON.parse(readFileSync(EVALUGATOR_FILE, "utf8"));
    expect(shape(ours)).toEqual([[...Object.keys(theirs), "tally"], ...shape(theirs).slice(1)]);
    expect(checker(file, "--extension", "tally")).toBe(`${file}: ok 10 sample results`);
    expect(checker(file)).toMatch(/^.*: keys .*'tally'.*, Evalugator writes /); // the checker can fail
    expect(ours).toMatchObject({ completer: "oracle", eval_spec: { id: spec.id }, save_path: file, comments: null, command_run: null });
    expect(Object.keys(ours.tally)).toEqual(["requests", "retries", "failures", "input_tokens", "output_tokens", "cost_usd"]);
    expect(evalResultFromJson(readFileSync(file, "utf8"))).toEqual(result);
  });

  it("gives samples and batches content ids", () => {
    const a = qaSample("What is 2 + 2?", ["4"]);
    expect(a.id).toBe(qaSample("What is 2 + 2?", ["4"]).id);
    expect(a.id).not.toBe(qaSample("What is 2 + 2?", ["5"]).id);
    expect(mcQuestion("Q", ["a"], ["b"]).id).not.toBe(mcQuestion("Q", ["b"], ["a"]).id);
    const batch = makeBatch(spec.samples, "test");
    expect(batch.id).toBe(makeBatch([...spec.samples], "someone else").id);
    expect(batch.id).not.toBe(makeBatch(spec.samples.slice(1), "test").id);
  });

  it("rejects a wrong shape in one line naming the field", async () => {
    const result = JSON.parse(JSON.stringify(await runEval(spec, oracle(spec))));
    result.sample_results[3].score = 2;
    expect(() => evalResultFromJson(result, "run.json")).toThrow(/^run\.json\.sample_results\.3\.score: /);
    expect(() => evalResultFromJson("{", "run.json")).toThrow(/^run\.json: not JSON/);
  });

  it("becomes a polars frame with one row per sample", async () => {
    const result = await runEval(spec, oracle(spec));
    const frame = resultsFrame(result);
    expect(frame.height).toBe(10);
    expect(frame.columns).toEqual(expect.arrayContaining(["id", "output", "output_parsed", "score", "unparsed", "split_depth", "split_length", "split_operator"]));
    expect(frame.getColumn("score").mean()).toBeCloseTo(result.accuracy, 12);
    expect(frame.getColumn("unparsed").toArray().filter(Boolean).length).toBe(result.counts.incorrect_and_unparsable);
  });
});
