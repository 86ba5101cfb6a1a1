// The SAD loader on a tiny fixture in SAD's layout: tasks found, samples read (MCQuestion and QA,
// string and message bodies), choices in a seeded order, replies scored, bad lines named.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Tally, findSadTasks, loadSadTask, orderChoices, runEval, sadEval, type MCQuestionSample, type Provider } from "../lib/evals/index.js";

const ROOT = "tests/fixtures/sad-mini";
const temp: string[] = [];
afterAll(() => temp.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("SAD loader", () => {
  it("finds the task folders, and none where SAD is absent", () => {
    expect(findSadTasks(ROOT)).toEqual([join(ROOT, "facts/facts_human_defaults"), join(ROOT, "stages/stages_mini")]);
    expect(findSadTasks("data/no-such-sad")).toEqual([]);
  });

  it("reads samples with their splits and ids (content hashes where a line has none)", () => {
    const task = loadSadTask(join(ROOT, "facts/facts_human_defaults"));
    expect(task.name).toBe("facts_human_defaults");
    expect(task.samples.map((s) => s.type)).toEqual(["MCQuestion", "MCQuestion", "MCQuestion"]);
    expect(task.samples[0]).toMatchObject({ id: "fhd-1", choices_right: ["No"], splits: { source: "mini", file: "structs/batch/mini.jsonl" } });
    expect(task.samples[2].id).toMatch(/^[0-9a-f]{16}$/);
    expect(Array.isArray(task.samples[2].body)).toBe(true);
    const stages = loadSadTask(join(ROOT, "stages/stages_mini"));
    expect(stages.samples.map((s) => `${s.type}:${s.splits.stage}`)).toEqual(["QA:1", "MCQuestion:2"]);
  });

  it("renders lettered options in a seeded order and scores the letter", async () => {
    const task = loadSadTask(join(ROOT, "facts/facts_human_defaults"));
    const spec = sadEval(task, { seed: 3 });
    const q = task.samples[1] as MCQuestionSample;
    const { choices, right } = orderChoices(q, 3);
    expect(orderChoices(q, 3)).toEqual({ choices, right });
    expect([...choices].sort()).toEqual(["A cat", "A human", "A language model", "A search engine"]);
    expect(choices[right[0].charCodeAt(0) - 65]).toBe("A language model");
    const prompt = spec.render(q);
    expect(prompt[0].content).toContain(`(${right[0]}) A language model`);
    expect(spec.score(q, `(${right[0]})`)).toEqual({ parsed: right[0], score: 1 });
    expect(spec.score(q, `${right[0]}`).score).toBe(1);
    const wrong = "ABCD".split("").find((l) => l !== right[0])!;
    expect(spec.score(q, `(${wrong}) because`).score).toBe(0);
    expect(spec.score(q, "I'd rather not say")).toEqual({ parsed: null, score: 0 });
    expect(spec.score(q, "(Z)")).toEqual({ parsed: null, score: 0 });
    // A message body keeps its system message; the options go in the last message.
    const m = spec.render(task.samples[2]);
    expect(m.map((x) => x.role)).toEqual(["system", "user"]);
    expect(m[1].content).toMatch(/\(A\) (Yes|No)\n\(B\) (Yes|No)/);
    expect(task.samples[2].body).not.toBe(m); // the sample is not modified

    // Through the same runner as every eval: a provider that always answers "(A)".
    const alwaysA: Provider = { model: "always-a", tally: new Tally(), getText: async () => ({ model: "always-a", text: "(A)", finishReason: "stop", usage: { inputTokens: 0, outputTokens: 0 } }) };
    const result = await runEval(spec, alwaysA);
    const expected = task.samples.filter((s) => orderChoices(s as MCQuestionSample, 3).right.includes("A")).length;
    expect(result.counts.total_correct).toBe(expected);
    expect(result.sample_results.length).toBe(3);
  });

  it("scores QA answers ignoring case and a final full stop", () => {
    const spec = sadEval(loadSadTask(join(ROOT, "stages/stages_mini")));
    const qa = spec.samples[0];
    expect(spec.score(qa, "Testing.").score).toBe(1);
    expect(spec.score(qa, "deployment").score).toBe(0);
    expect(spec.score(qa, "  ").parsed).toBeNull();
  });

  it("names the file and line of a bad sample, and a folder that is not a task", () => {
    const dir = mkdtempSync(join(tmpdir(), "sad-bad-"));
    temp.push(dir);
    cpSync(join(ROOT, "stages/stages_mini"), join(dir, "t"), { recursive: true });
    const file = join(dir, "t/structs/batch/part1.jsonl");
    writeFileSync(file, '{"type": "MCQuestion", "body": "q", "choices_right": [], "choices_wrong": ["x"]}\n');
    expect(() => loadSadTask(join(dir, "t"))).toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: line 1\\.choices_right: `));
    writeFileSync(file, "{oops\n");
    expect(() => loadSadTask(join(dir, "t"))).toThrow(/part1\.jsonl: line 1 is not JSON$/);
    expect(() => loadSadTask(dir)).toThrow(/no structs\/batch folder \(is this a SAD task folder, and did you unzip SAD\?\)/);
  });
});
