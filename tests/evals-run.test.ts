// Running and resuming: a run killed with SIGKILL mid-way resumes and ends with each sample once;
// torn lines, mismatched run folders, the EvalResult JSON shape (Evalugator's field names) and the
// polars frame.
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  ConcurrencyLimit,
  Tally,
  arithmeticEval,
  evalResultFromJson,
  makeBatch,
  mcQuestion,
  qaSample,
  readRunLog,
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
      return { model: "oracle", text, finishReason: "stop", usage: { inputTokens: 1, outputTokens: 1 } };
    },
  };
}

function lines(path: string): string[] {
  return readFileSync(path, "utf8").split("\n").filter(Boolean);
}

describe("runEval", () => {
  const spec = arithmeticEval({ n: 60, maxDepth: 4, seed: 21 });

  it("scores, counts unparsed replies and keeps sample order", async () => {
    const result = await runEval(spec, oracle(spec));
    expect(result.sample_results.map((r) => r.sample.id)).toEqual(spec.samples.map((s) => s.id));
    expect(result.counts).toEqual({ total: 60, correct: 24, incorrect: 24, unparsed: 12 });
    expect(result.accuracy).toBeCloseTo(0.4, 12);
    const first = result.sample_results[0];
    expect(first.output_correct).toBe(spec.correctOutput(spec.samples[0]));
    expect(first.input).toEqual(spec.render(spec.samples[0]));
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
    expect(result.counts.total).toBe(60);
    expect(lines(join(dir, "results.jsonl")).length).toBe(61); // header + each sample once
    expect(evalResultFromJson(readFileSync(join(dir, "eval_result.json"), "utf8"))).toEqual(result);
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
const provider = { model: "oracle", tally: new Tally(), getText: (r: any) => one.run(async () => {
  await new Promise((ok) => setTimeout(ok, 15));
  return { model: "oracle", text: answers.get(r.prompt[1].content)!, finishReason: "stop", usage: { inputTokens: 1, outputTokens: 1 } };
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
        if (existsSync(log) && lines(log).length >= 21) {
          clearInterval(timer);
          child.kill("SIGKILL");
          done();
        }
      }, 5);
      child.on("exit", () => (clearInterval(timer), fail(new Error(`the child finished before it was killed: ${stderr}`))));
    });
    await new Promise((r) => child.once("exit", r));
    const before = readRunLog(log).results.length;
    expect(before).toBeGreaterThanOrEqual(20);
    expect(before).toBeLessThan(60);
    const resumed = oracle(spec);
    const result = await runEval(spec, resumed, { runDir: join(dir, "run") });
    expect(resumed.asked.length).toBe(60 - before);
    expect(new Set(result.sample_results.map((r) => r.sample.id)).size).toBe(60);
    expect(lines(log).length).toBe(61);
  });

  it("cuts a torn last line and asks that sample again; a failed request is asked again too", async () => {
    const dir = tempDir();
    const failing: Provider = { ...oracle(spec), async getText() { throw new Error("network down"); } };
    const small = { ...spec, samples: spec.samples.slice(0, 4) };
    const failed = await runEval(small, { ...oracle(small), getText: failing.getText }, { runDir: dir });
    expect(failed.sample_results.every((r) => r.other_output?.error === "network down")).toBe(true);
    appendFileSync(join(dir, "results.jsonl"), '{"sample": {"type": "QA", "id": "to');
    const again = oracle(small);
    const result = await runEval(small, again, { runDir: dir });
    expect(again.asked.length).toBe(4);
    expect(result.sample_results.every((r) => !r.other_output?.error)).toBe(true);
    expect(readRunLog(join(dir, "results.jsonl")).results.length).toBe(4);
  });

  it("refuses a run folder of another eval or model, naming the file", async () => {
    const dir = tempDir();
    await runEval({ ...spec, samples: spec.samples.slice(0, 2) }, oracle(spec), { runDir: dir });
    const other = arithmeticEval({ n: 5, maxDepth: 2, seed: 1 });
    await expect(runEval(other, oracle(other), { runDir: dir })).rejects.toThrow(
      new RegExp(`^${join(dir, "results.jsonl").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: holds a run of eval ${spec.id} on oracle, not eval ${other.id} on oracle`),
    );
    writeFileSync(join(dir, "results.jsonl"), '{"type":"header","eval_spec_id":"x","model":"oracle","created_at":"t"}\n{"sample": 1}\n');
    await expect(runEval({ ...spec, id: "x" }, oracle(spec), { runDir: dir })).rejects.toThrow(/results\.jsonl: line 2\.sample: /);
  });
});

describe("EvalResult JSON", () => {
  const spec = arithmeticEval({ n: 10, maxDepth: 2, seed: 4 });

  it("round-trips with Evalugator's field names", async () => {
    const result = await runEval(spec, oracle(spec));
    const json = JSON.parse(JSON.stringify(result));
    expect(Object.keys(json).sort()).toEqual(["accuracy", "comments", "counts", "created_at", "created_by", "eval_spec_id", "id", "model", "sample_results"]);
    expect(Object.keys(json.sample_results[0]).sort()).toEqual(["input", "other_output", "output", "output_correct", "output_parsed", "sample", "score"]);
    expect(Object.keys(json.sample_results[0].sample).sort()).toEqual(["body", "id", "ideal_answers", "splits", "type"]);
    expect(evalResultFromJson(JSON.stringify(result))).toEqual(result);
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
    expect(frame.getColumn("unparsed").toArray().filter(Boolean).length).toBe(result.counts.unparsed);
  });
});
