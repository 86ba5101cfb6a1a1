/**
 * Running an eval: every sample rendered, sent to a provider (several at once, up to its
 * concurrency limit), scored and logged; a run folder makes the run resumable, and the tally of
 * what the provider was asked (requests, retries, tokens, cost) is summed over every resumed part.
 *
 *   const result = await runEval(spec, provider, { runDir: "out/evals/arith-gpt4o-mini" });
 */
import { join } from "node:path";
import { writeFileAtomic } from "../io/index.js";
import { tallySince, type Provider } from "./providers/provider.js";
import { RunLog, addTallies } from "./store.js";
import { contentId, countResults, requestError, CONFUSION_TABLE_LEGEND, type EvalCounts, type EvalResult, type EvalSpec, type RunSampleResult, type RunTally, type Sample, type SampleResult } from "./structs.js";

export interface RunOptions {
  /** Folder for results.jsonl (resume) and eval_result.json; without it the run is in memory only. */
  runDir?: string;
  /** Called after each sample with the number done and the total. */
  onProgress?(done: number, total: number, result: RunSampleResult): void;
  /** Stop early (finished samples stay logged; the promise rejects with the abort reason). */
  signal?: AbortSignal;
  createdBy?: string;
  comments?: string;
  /** A request that still fails after the provider's retries: "record" scores it 0 with the error kept (default), "throw" stops the run. */
  onRequestError?: "record" | "throw";
}

/** An EvalResult as runEval makes it: counts and tally always there. */
export type RunResult = Omit<EvalResult, "counts" | "tally" | "sample_results"> & { counts: EvalCounts; tally: RunTally; sample_results: RunSampleResult[] };

export async function runEval(spec: EvalSpec, provider: Provider, options: RunOptions = {}): Promise<RunResult> {
  const log = options.runDir ? RunLog.open(options.runDir, spec.id, provider.model) : null;
  // A sample whose request failed last time is asked again.
  const done = new Map<string, RunSampleResult>((log?.done ?? []).filter((r) => !requestError(r)).map((r) => [r.sample.id, r]));
  const todo = spec.samples.filter((s) => !done.has(s.id));
  // What the provider is asked from here on counts toward this run (a provider shared by two runs at once counts in both).
  const start = provider.tally.snapshot();
  const partTally = () => tallySince(provider.tally, start);
  let finished = done.size;
  try {
    await Promise.all(
      todo.map(async (sample) => {
        options.signal?.throwIfAborted();
        const result = await runSample(spec, provider, sample, options);
        options.signal?.throwIfAborted();
        log?.append(result, partTally());
        done.set(sample.id, result);
        options.onProgress?.(++finished, spec.samples.length, result);
      }),
    );
  } finally {
    log?.close(partTally());
  }
  const sampleResults = spec.samples.map((s) => done.get(s.id)!);
  const createdAt = log?.header.created_at ?? new Date().toISOString();
  const savePath = options.runDir ? join(options.runDir, "eval_result.json") : null;
  // Evalugator's fields in the order it writes them, then ours.
  const result: RunResult = {
    created_at: createdAt,
    completer: provider.model,
    ...countResults(sampleResults),
    confusion_table: null,
    confusion_table_legend: CONFUSION_TABLE_LEGEND,
    comments: options.comments ?? null,
    sample_results: sampleResults,
    id: contentId({ eval_spec_id: spec.id, model: provider.model, created_at: createdAt }),
    // Our specs render and score with functions, not named templates and parsers.
    eval_spec: { id: spec.id, template: null, extensions: [], renderer: "custom", parser: "custom" },
    command_run: null,
    created_by: options.createdBy ?? "gpt-from-scratch lib/evals",
    save_path: savePath,
    tally: addTallies(log?.earlierTally ?? null, partTally()),
  };
  if (savePath) writeFileAtomic(savePath, evalResultJson(result));
  return result;
}

/** An EvalResult as Evalugator writes one (`model_dump_json(indent=2)`). */
export function evalResultJson(result: EvalResult): string {
  return JSON.stringify(result, null, 2);
}

async function runSample(spec: EvalSpec, provider: Provider, sample: Sample, options: RunOptions): Promise<RunSampleResult> {
  const input = spec.render(sample);
  const correct = spec.correctOutput(sample);
  try {
    const response = await provider.getText({ prompt: input, maxTokens: spec.maxTokens, temperature: spec.temperature }, { signal: options.signal });
    const scored = spec.score(sample, response.text);
    return sampleResult(input, { usage: response.usage }, response.text, scored.parsed, correct, sample, scored.score);
  } catch (error) {
    if (options.signal?.aborted || options.onRequestError === "throw") throw error;
    return sampleResult(input, { error: (error as Error).message }, "", null, correct, sample, 0);
  }
}

/** A SampleResult with its fields in Evalugator's order. */
function sampleResult(input: SampleResult["input"], other: SampleResult["other_output"], output: string, parsed: string | null, correct: string, sample: Sample, score: number): RunSampleResult {
  return { input, other_output: other, output, output_parsed: parsed, output_correct: correct, sample, score };
}
