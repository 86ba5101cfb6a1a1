/**
 * The eval data model, after Evalugator (github.com/LRudL/evalugator): samples (free-form `QA` with
 * ideal answers, `MCQuestion` with right and wrong choices), batches of samples, an eval spec (how a
 * sample becomes a prompt and how a reply is scored) and an `EvalResult` with one `SampleResult`
 * per sample.
 *
 * The JSON of a sample, a SampleResult and an EvalResult has Evalugator's fields: the same names,
 * nesting, types and nullable/optional ones, in the order pydantic writes them, so its result files
 * and ours read alike and load into each other. Where they were read: the pydantic models of
 * Evalugator's structs.py (Sample, QA, MCQuestion, SampleResult, SampleSetResult, EvalResult) as the
 * course's seed quotes them (github.com/b-schoen/gpt_from_scratch, gpt_from_scratch/evals/
 * example_eval.ipynb), and an `eval_result.model_dump_json(indent=2)` that Evalugator printed in an
 * earlier version of that notebook (commit 775025f), which shows the counts' keys and the
 * eval_spec's. Ours adds one field of its own, `tally` (requests, retries, tokens, cost): pydantic
 * ignores fields it does not know when it loads a file, and a plain Evalugator file, without it,
 * loads here too.
 *
 * Where ours is narrower: samples are QA or MCQuestion (Evalugator also has bare Question, Sample
 * and Custom types). Better than the original where its TODOs pointed: a sample's id is a
 * hash of its content (the same question always has the same id, so runs resume and results join
 * across runs), and a reply that cannot be parsed is scored 0 and counted as unparsable instead of
 * being dropped.
 */
import { createHash } from "node:crypto";
import { z } from "zod";

export interface Message {
  role: "system" | "user" | "assistant";
  content: string;
}

/** The fields every Evalugator sample has (Sample and Question), with the defaults it writes. */
interface SampleFields {
  id: string;
  /** Named groupings for per-split accuracy, e.g. { depth: "3", length: "5-6" }. */
  splits: Record<string, string>;
  comments: string | null;
  /** Evalugator's per-scorer scores (ScorerName → Score); {} unless a scorer filled it. */
  scores: Record<string, unknown>;
  extra_template_vars: Record<string, unknown>;
  created_by: string;
  body: string | Message[];
}

/** A free-form question; a reply is right when it matches one of `ideal_answers`. */
export interface QASample extends SampleFields {
  type: "QA";
  ideal_answers: string[];
}

/** A multiple-choice question: one or more right choices, the others wrong. */
export interface MCQuestionSample extends SampleFields {
  type: "MCQuestion";
  choices_right: string[];
  choices_wrong: string[];
  /** A fixed order of the choices, or null to let the renderer order them. */
  choices_order: string[] | null;
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
  /** The prompt: a message list (ours always), or one string. */
  input: string | Message[];
  /** Anything else worth keeping: ours holds { usage } or, for a failed request, { error }. */
  other_output: string | unknown[] | Record<string, unknown> | null;
  /** The reply's text (ours), or a token → probability map for a probs eval. */
  output: string | unknown[] | Record<string, number>;
  output_parsed: string | null;
  output_correct: string | string[] | null;
  /** Null where Evalugator's eval had no sample to keep (ours always have one: see RunSampleResult). */
  sample: Sample | null;
  score: number;
}

/** A SampleResult of our own runs, whose sample is always there (its id is what a run resumes by). */
export type RunSampleResult = SampleResult & { sample: Sample };

/** Evalugator's counts, as its summary writes them: total_incorrect is the two incorrect kinds together. */
export interface EvalCounts {
  total_correct: number;
  total_incorrect: number;
  /** Replies with no answer in them (scored 0). */
  incorrect_and_unparsable: number;
  incorrect_and_parsable: number;
}

/** Evalugator's EvalSpecReduced: the eval spec named, not the samples. */
export interface EvalSpecReduced {
  id: string;
  template: string | null;
  extensions: unknown[];
  renderer: string;
  parser: string;
}

/** Our extension beside Evalugator's fields: what the run asked of the provider, summed over every resumed part. */
export interface RunTally {
  requests: number;
  retries: number;
  failures: number;
  input_tokens: number;
  output_tokens: number;
  /** Dollars, or null when the provider had no prices. */
  cost_usd: number | null;
}

export const CONFUSION_TABLE_LEGEND = "First layer (rows) are ground truth, second layer (columns) are model outputs";

export interface EvalResult {
  created_at: string;
  /** The model (Evalugator's name for it: the completer). */
  completer: string | string[] | null;
  accuracy: number;
  counts: EvalCounts | null;
  confusion_table: Record<string, Record<string, number>> | null;
  confusion_table_legend: string;
  comments: string | null;
  sample_results: SampleResult[];
  id: string;
  eval_spec: EvalSpecReduced | null;
  /** The command line of a CLI run; null from code. */
  command_run: string | null;
  created_by: string;
  save_path: string | null;
  /** Ours, not Evalugator's; absent in its files. */
  tally?: RunTally;
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

/** Evalugator's sample defaults, in the order it writes them; `type` sits among them as in its JSON. */
function sampleHead(id: string, splits: Record<string, string>, type: Sample["type"], createdBy: string) {
  return { id, splits, comments: null, scores: {}, type, extra_template_vars: {}, created_by: createdBy };
}

/** A QA sample whose id is the hash of its content. */
export function qaSample(body: string | Message[], idealAnswers: string[], splits: Record<string, string> = {}, createdBy = "unknown"): QASample {
  const id = contentId({ type: "QA", body, ideal_answers: idealAnswers });
  return { ...sampleHead(id, splits, "QA", createdBy), type: "QA", body, ideal_answers: idealAnswers };
}

/** An MCQuestion sample whose id is the hash of its content. */
export function mcQuestion(body: string | Message[], right: string[], wrong: string[], splits: Record<string, string> = {}, createdBy = "unknown"): MCQuestionSample {
  const id = contentId({ type: "MCQuestion", body, choices_right: right, choices_wrong: wrong });
  return { ...sampleHead(id, splits, "MCQuestion", createdBy), type: "MCQuestion", body, choices_right: right, choices_wrong: wrong, choices_order: null };
}

/** A batch whose id is the hash of its samples' ids, so re-importing the same samples gives the same batch. */
export function makeBatch(samples: Sample[], createdBy: string): Batch {
  return { id: contentId(samples.map((s) => s.id)), created_by: createdBy, samples };
}

/** Counts and accuracy of a list of sample results (a score of 1 is correct; an unparsed reply is incorrect and unparsable). */
export function countResults(results: SampleResult[]): { accuracy: number; counts: EvalCounts } {
  const correct = results.filter((r) => r.score === 1).length;
  const unparsable = results.filter((r) => r.score !== 1 && r.output_parsed === null).length;
  const counts = { total_correct: correct, total_incorrect: results.length - correct, incorrect_and_unparsable: unparsable, incorrect_and_parsable: results.length - correct - unparsable };
  return { accuracy: results.length ? correct / results.length : 0, counts };
}

/** The error a failed request left in a result's other_output, if any. */
export function requestError(result: SampleResult): string | undefined {
  const other = result.other_output;
  if (other === null || typeof other !== "object" || Array.isArray(other)) return undefined;
  return typeof other.error === "string" ? other.error : undefined;
}

// Loose objects: a field these schemas do not know (one a later Evalugator adds) survives a load and a save.
const message = z.looseObject({ role: z.enum(["system", "user", "assistant"]), content: z.string() });
const body = z.union([z.string(), z.array(message)]);
/** A sample's fields in Evalugator's order, `type` among them; the defaults are what it writes when a field was not set. */
function sampleShape<T extends Sample["type"], R extends z.ZodRawShape>(type: T, rest: R) {
  return {
    id: z.string(),
    splits: z.record(z.string(), z.string()).default(() => ({})),
    comments: z.string().nullable().default(null),
    scores: z.record(z.string(), z.unknown()).default(() => ({})),
    type: z.literal(type),
    extra_template_vars: z.record(z.string(), z.unknown()).default(() => ({})),
    created_by: z.string().default("unknown"),
    body,
    ...rest,
  };
}
export const sampleSchema = z.discriminatedUnion("type", [
  z.looseObject(sampleShape("QA", { ideal_answers: z.array(z.string()) })),
  z.looseObject(
    sampleShape("MCQuestion", {
      choices_right: z.array(z.string()),
      choices_wrong: z.array(z.string()),
      choices_order: z.array(z.string()).nullable().default(null),
    }),
  ),
]);
export const sampleResultSchema = z.looseObject({
  input: z.union([z.string(), z.array(message)]),
  other_output: z.union([z.string(), z.array(z.unknown()), z.record(z.string(), z.unknown())]).nullable().default(null),
  output: z.union([z.string(), z.array(z.unknown()), z.record(z.string(), z.number())]),
  output_parsed: z.string().nullable().default(null),
  output_correct: z.union([z.string(), z.array(z.string())]).nullable().default(null),
  sample: sampleSchema.nullable(),
  score: z.number().min(0).max(1),
});
const count = z.number().int().min(0);
export const runTallySchema = z.strictObject({
  requests: count,
  retries: count,
  failures: count,
  input_tokens: count,
  output_tokens: count,
  cost_usd: z.number().min(0).nullable(),
});
export const evalResultSchema = z.looseObject({
  created_at: z.string(),
  completer: z.union([z.string(), z.array(z.string())]).nullable(),
  accuracy: z.number().min(0).max(1),
  counts: z.looseObject({ total_correct: count, total_incorrect: count, incorrect_and_unparsable: count, incorrect_and_parsable: count }).nullable().default(null),
  confusion_table: z.record(z.string(), z.record(z.string(), count)).nullable().default(null),
  confusion_table_legend: z.string().default(CONFUSION_TABLE_LEGEND),
  comments: z.string().nullable().default(null),
  sample_results: z.array(sampleResultSchema),
  id: z.string(),
  eval_spec: z
    .looseObject({ id: z.string(), template: z.string().nullable(), extensions: z.array(z.unknown()), renderer: z.string(), parser: z.string() })
    .nullable()
    .default(null),
  command_run: z.string().nullable().default(null),
  created_by: z.string(),
  save_path: z.string().nullable().default(null),
  tally: runTallySchema.optional(),
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
