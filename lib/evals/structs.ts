/**
 * The eval data model, after Evalugator (github.com/LRudL/evalugator): samples (free-form `QA` with
 * ideal answers, `MCQuestion` with right and wrong choices), batches of samples, an eval spec (how a
 * sample becomes a prompt and how a reply is scored) and an `EvalResult` with one `SampleResult`
 * per sample. JSON uses Evalugator's snake_case field names, so its result files and ours read alike.
 *
 * Better than the original where its TODOs pointed: a sample's id is a hash of its content (the
 * same question always has the same id, so runs resume and results join across runs), and a reply
 * that cannot be parsed is scored 0 and counted as "unparsed" instead of being dropped.
 */
import { createHash } from "node:crypto";
import { z } from "zod";

export interface Message {
  role: "system" | "user" | "assistant";
  content: string;
}

/** A free-form question; a reply is right when it matches one of `ideal_answers`. */
export interface QASample {
  type: "QA";
  id: string;
  body: string | Message[];
  ideal_answers: string[];
  /** Named groupings for per-split accuracy, e.g. { depth: "3", length: "5-6" }. */
  splits: Record<string, string>;
}

/** A multiple-choice question: one or more right choices, the others wrong. */
export interface MCQuestionSample {
  type: "MCQuestion";
  id: string;
  body: string | Message[];
  choices_right: string[];
  choices_wrong: string[];
  splits: Record<string, string>;
}

export type Sample = QASample | MCQuestionSample;

/** Samples produced by one event (an import, a generator run). */
export interface Batch {
  id: string;
  created_by: string;
  samples: Sample[];
}

/** What scoring made of one reply. `parsed: null` means no answer could be read from it. */
export interface Scored {
  parsed: string | null;
  score: number;
}

/** How to run an eval: the samples, how each becomes a prompt, and how a reply is scored. */
export interface EvalSpec {
  /** Names the eval and its settings: runs with the same id may resume each other. */
  id: string;
  samples: Sample[];
  render(sample: Sample): Message[];
  score(sample: Sample, reply: string): Scored;
  /** The answer that scores 1, as a string (Evalugator's output_correct). */
  correctOutput(sample: Sample): string;
  maxTokens: number;
  temperature: number;
}

export interface SampleResult {
  sample: Sample;
  input: Message[];
  output: string;
  output_parsed: string | null;
  output_correct: string;
  score: number;
  /** Anything else worth keeping: token usage, the provider's error for a failed request. */
  other_output?: Record<string, unknown>;
}

export interface EvalCounts {
  total: number;
  correct: number;
  incorrect: number;
  /** Replies with no answer in them (scored 0, included in `total`). */
  unparsed: number;
}

export interface EvalResult {
  id: string;
  created_at: string;
  created_by: string;
  comments: string;
  eval_spec_id: string;
  model: string;
  counts: EvalCounts;
  accuracy: number;
  sample_results: SampleResult[];
}

/** A content hash: the first 16 hex digits of sha256 over the canonical JSON of `value`. */
export function contentId(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex").slice(0, 16);
}

/** JSON with object keys sorted, so equal content always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A QA sample whose id is the hash of its content. */
export function qaSample(body: string | Message[], idealAnswers: string[], splits: Record<string, string> = {}): QASample {
  return { type: "QA", id: contentId({ type: "QA", body, ideal_answers: idealAnswers }), body, ideal_answers: idealAnswers, splits };
}

/** An MCQuestion sample whose id is the hash of its content. */
export function mcQuestion(body: string | Message[], right: string[], wrong: string[], splits: Record<string, string> = {}): MCQuestionSample {
  return {
    type: "MCQuestion",
    id: contentId({ type: "MCQuestion", body, choices_right: right, choices_wrong: wrong }),
    body,
    choices_right: right,
    choices_wrong: wrong,
    splits,
  };
}

/** A batch whose id is the hash of its samples' ids, so re-importing the same samples gives the same batch. */
export function makeBatch(samples: Sample[], createdBy: string): Batch {
  return { id: contentId(samples.map((s) => s.id)), created_by: createdBy, samples };
}

/** Counts and accuracy of a list of sample results. */
export function countResults(results: SampleResult[]): { counts: EvalCounts; accuracy: number } {
  const correct = results.filter((r) => r.score === 1).length;
  const unparsed = results.filter((r) => r.output_parsed === null).length;
  const counts = { total: results.length, correct, incorrect: results.length - correct - unparsed, unparsed };
  return { counts, accuracy: results.length ? correct / results.length : 0 };
}

const message = z.strictObject({ role: z.enum(["system", "user", "assistant"]), content: z.string() });
const body = z.union([z.string(), z.array(message)]);
const splits = z.record(z.string(), z.string());
export const sampleSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("QA"), id: z.string(), body, ideal_answers: z.array(z.string()), splits }),
  z.strictObject({
    type: z.literal("MCQuestion"),
    id: z.string(),
    body,
    choices_right: z.array(z.string()),
    choices_wrong: z.array(z.string()),
    splits,
  }),
]);
export const sampleResultSchema = z.strictObject({
  sample: sampleSchema,
  input: z.array(message),
  output: z.string(),
  output_parsed: z.string().nullable(),
  output_correct: z.string(),
  score: z.number().min(0).max(1),
  other_output: z.record(z.string(), z.unknown()).optional(),
});
const count = z.number().int().min(0);
export const evalResultSchema = z.strictObject({
  id: z.string(),
  created_at: z.string(),
  created_by: z.string(),
  comments: z.string(),
  eval_spec_id: z.string(),
  model: z.string(),
  counts: z.strictObject({ total: count, correct: count, incorrect: count, unparsed: count }),
  accuracy: z.number().min(0).max(1),
  sample_results: z.array(sampleResultSchema),
});

/** Read an EvalResult from JSON text (or a parsed object); a wrong shape throws one line naming `what` and the field. */
export function evalResultFromJson(json: string | unknown, what = "EvalResult"): EvalResult {
  let value: unknown = json;
  if (typeof json === "string") {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new Error(`${what}: not JSON (${(error as Error).message})`);
    }
  }
  const parsed = evalResultSchema.safeParse(value);
  if (!parsed.success) throw new Error(zodLine(what, parsed.error));
  return parsed.data as EvalResult;
}

/** "<what>.<path>: <message>" for the first problem zod found. */
export function zodLine(what: string, error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue.path.map(String).join(".");
  return `${what}${path ? `.${path}` : ""}: ${issue.message}`;
}
