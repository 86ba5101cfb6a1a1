/**
 * Running an eval: every sample rendered, sent to a provider (several at once, up to its
 * concurrency limit), scored and logged; a run folder makes the run resumable.
 *
 *   const result = await runEval(spec, provider, { runDir: "out/evals/arith-gpt4o-mini" });
 */
import { join } from "node:path";
import { writeFileAtomic } from "../io/index.js";
import type { Provider } from "./providers/provider.js";
import { RunLog } from "./store.js";
import { contentId, countResults, type EvalResult, type EvalSpec, type Sample, type SampleResult } from "./structs.js";

export interface RunOptions {
  /** Folder for results.jsonl (resume) and eval_result.json; without it the run is in memory only. */
  runDir?: string;
  /** Called after each sample with the number done and the total. */
  onProgress?(done: number, total: number, result: SampleResult): void;
  /** Stop early (finished samples stay logged; the promise rejects with the abort reason). */
  signal?: AbortSignal;
  createdBy?: string;
  comments?: string;
  /** A request that still fails after the provider's retries: "record" scores it 0 with the error kept (default), "throw" stops the run. */
  onRequestError?: "record" | "throw";
}

export async function runEval(spec: EvalSpec, provider: Provider, options: RunOptions = {}): Promise<EvalResult> {
  const log = options.runDir ? RunLog.open(options.runDir, spec.id, provider.model) : null;
  // A sample whose request failed last time is asked again.
  const done = new Map<string, SampleResult>((log?.done ?? []).filter((r) => !r.other_output?.error).map((r) => [r.sample.id, r]));
  const todo = spec.samples.filter((s) => !done.has(s.id));
  let finished = done.size;
  try {
    await Promise.all(
      todo.map(async (sample) => {
        options.signal?.throwIfAborted();
        const result = await runSample(spec, provider, sample, options);
        options.signal?.throwIfAborted();
        log?.append(result);
        done.set(sample.id, result);
        options.onProgress?.(++finished, spec.samples.length, result);
      }),
    );
  } finally {
    log?.close();
  }
  const sampleResults = spec.samples.map((s) => done.get(s.id)!);
  const createdAt = log?.header.created_at ?? new Date().toISOString();
  const result: EvalResult = {
    id: contentId({ eval_spec_id: spec.id, model: provider.model, created_at: createdAt }),
    created_at: createdAt,
    created_by: options.createdBy ?? "gpt-from-scratch lib/evals",
    comments: options.comments ?? "",
    eval_spec_id: spec.id,
    model: provider.model,
    ...countResults(sampleResults),
    sample_results: sampleResults,
  };
  if (options.runDir) writeFileAtomic(join(options.runDir, "eval_result.json"), JSON.stringify(result, null, 1));
  return result;
}

async function runSample(spec: EvalSpec, provider: Provider, sample: Sample, options: RunOptions): Promise<SampleResult> {
  const input = spec.render(sample);
  const base = { sample, input, output_correct: spec.correctOutput(sample) };
  try {
    const response = await provider.getText({ prompt: input, maxTokens: spec.maxTokens, temperature: spec.temperature }, { signal: options.signal });
    const scored = spec.score(sample, response.text);
    return { ...base, output: response.text, output_parsed: scored.parsed, score: scored.score, other_output: { usage: response.usage } };
  } catch (error) {
    if (options.signal?.aborted || options.onRequestError === "throw") throw error;
    return { ...base, output: "", output_parsed: null, score: 0, other_output: { error: (error as Error).message } };
  }
}
