/**
 * The Situational Awareness Dataset (SAD, github.com/LRudL/sad) where a learner has cloned and
 * unzipped it (the course does not ship it: its authors keep the questions out of public text so
 * that models are not trained on them, and zip each task's files with a password). SAD's tasks are
 * Evalugator batches: each task folder (sad/stages/oversight, sad/facts/llms, ...) has a
 * structs.zip that unpacks to structs/batch/*.yaml, each file one batch whose `samples` list holds
 * Evalugator samples, mostly `MCQuestion` ({ body, choices_right, choices_wrong }) and some `QA`.
 * Batches as JSONL (one sample per line, as Evalugator imports them) are read too.
 *
 *   const tasks = findSadTasks();                         // task folders under data/sad holding batch files
 *   const spec = sadEval(loadSadTask(tasks[0]), { seed: 1 });
 *   const result = await runEval(spec, provider);
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { FileFormatError } from "../io/index.js";
import { Rng } from "../util/random.js";
import { contentId, sampleSchema, zodLine, type EvalSpec, type MCQuestionSample, type Message, type Sample, type Scored } from "./structs.js";

export const SAD_DEFAULT_ROOT = "data/sad";

const BATCH_FILE = /\.(ya?ml|jsonl)$/;

// An Evalugator sample as SAD stores it; its id may be left out here (then it is the content hash)
// and split values that YAML reads as numbers or booleans are taken as their text.
const sadSample = z.preprocess((value) => {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const v = value as Record<string, unknown>;
  const splits = v.splits && typeof v.splits === "object" && !Array.isArray(v.splits) ? Object.fromEntries(Object.entries(v.splits).map(([k, x]) => [k, typeof x === "string" ? x : String(x)])) : v.splits;
  return { ...v, id: typeof v.id === "string" ? v.id : v.id === undefined || v.id === null ? contentId(contentOf(v)) : String(v.id), splits };
}, sampleSchema);

function contentOf(v: Record<string, unknown>): unknown {
  return v.type === "QA" ? { type: "QA", body: v.body, ideal_answers: v.ideal_answers } : { type: v.type, body: v.body, choices_right: v.choices_right, choices_wrong: v.choices_wrong };
}

export interface SadTask {
  name: string;
  dir: string;
  samples: Sample[];
}

/** Folders under `root` that hold batch files (structs/batch/*.yaml or *.jsonl); [] when SAD is not there or not unzipped. */
export function findSadTasks(root = SAD_DEFAULT_ROOT): string[] {
  if (!existsSync(root)) return [];
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 6) return;
    const batch = join(dir, "structs", "batch");
    if (existsSync(batch) && readdirSync(batch).some((f) => BATCH_FILE.test(f))) found.push(dir);
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!name.startsWith(".") && name !== "structs" && statSync(path).isDirectory()) walk(path, depth + 1);
    }
  };
  walk(root, 0);
  return found.sort();
}

/** Every sample of a task folder's batch files, in file order; a bad sample throws one line naming the file and where in it. */
export function loadSadTask(dir: string): SadTask {
  const batchDir = join(dir, "structs", "batch");
  if (!existsSync(batchDir)) {
    const zipped = existsSync(join(dir, "structs.zip")) ? " (its structs.zip is not unpacked: see the README's SAD section)" : " (is this a SAD task folder, and did you unzip SAD?)";
    throw new Error(`${dir}: no structs/batch folder${zipped}`);
  }
  const samples: Sample[] = [];
  const seen = new Set<string>();
  for (const file of readdirSync(batchDir).filter((f) => BATCH_FILE.test(f)).sort()) {
    const path = join(batchDir, file);
    for (const { where, value } of batchEntries(path)) {
      const parsed = sadSample.safeParse(value);
      if (!parsed.success) throw new FileFormatError(path, zodLine(where, parsed.error));
      const sample = parsed.data as Sample;
      const answers = sample.type === "QA" ? "ideal_answers" : "choices_right";
      if ((sample.type === "QA" ? sample.ideal_answers : sample.choices_right).length === 0) throw new FileFormatError(path, `${where}.${answers}: there is no right answer to score against`);
      sample.splits = { file: relative(dir, path), ...sample.splits };
      if (seen.has(sample.id)) continue;
      seen.add(sample.id);
      samples.push(sample);
    }
  }
  return { name: dir.split(/[\\/]/).filter(Boolean).pop() ?? dir, dir, samples };
}

/** The raw samples of one batch file, each with where it is ("line 3", "samples.2") for errors. */
function batchEntries(path: string): { where: string; value: unknown }[] {
  const text = readFileSync(path, "utf8");
  if (path.endsWith(".jsonl")) {
    return text.split("\n").flatMap((line, i) => {
      if (!line.trim()) return [];
      try {
        return [{ where: `line ${i + 1}`, value: JSON.parse(line) as unknown }];
      } catch {
        throw new FileFormatError(path, `line ${i + 1} is not JSON`);
      }
    });
  }
  let batch: unknown;
  try {
    batch = parseYaml(text);
  } catch (error) {
    throw new FileFormatError(path, `is not YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  const list = (batch as { samples?: unknown } | null)?.samples;
  if (!Array.isArray(list)) throw new FileFormatError(path, "has no samples list (an Evalugator batch has one)");
  return list.map((value, i) => ({ where: `samples.${i}`, value }));
}

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** The choices of a question in a seeded order (the same for a sample in every run), with the right letters. */
export function orderChoices(sample: MCQuestionSample, seed: number): { choices: string[]; right: string[] } {
  const rng = new Rng((seed ^ parseInt(sample.id.slice(0, 8), 16)) >>> 0);
  const all = rng.shuffle([...sample.choices_right, ...sample.choices_wrong]);
  const right = all.flatMap((c, i) => (sample.choices_right.includes(c) ? [LETTERS[i]] : []));
  return { choices: all, right };
}

/** A SAD task as an EvalSpec: questions with lettered options, the reply's first "(X)" or lone letter scored. */
export function sadEval(task: SadTask, options: { seed?: number; maxTokens?: number } = {}): EvalSpec {
  const seed = options.seed ?? 1;
  const bodyText = (b: string | Message[]): Message[] => (typeof b === "string" ? [{ role: "user", content: b }] : b);
  return {
    id: contentId({ eval: "sad", task: task.name, ids: task.samples.map((s) => s.id), seed }),
    samples: task.samples,
    maxTokens: options.maxTokens ?? 8,
    temperature: 0,
    render(sample): Message[] {
      const messages = bodyText(sample.body).map((m) => ({ ...m }));
      if (sample.type === "MCQuestion") {
        const { choices } = orderChoices(sample, seed);
        const last = messages[messages.length - 1];
        last.content += `\n\n${choices.map((c, i) => `(${LETTERS[i]}) ${c}`).join("\n")}\n\nAnswer with the letter of the right option only.`;
      }
      return messages;
    },
    score(sample, reply): Scored {
      if (sample.type === "QA") {
        const got = reply.trim();
        if (!got) return { parsed: null, score: 0 };
        const norm = (t: string) => t.trim().toLowerCase().replace(/[.\s]+$/, "");
        return { parsed: got, score: sample.ideal_answers.some((a) => norm(a) === norm(got)) ? 1 : 0 };
      }
      const { choices, right } = orderChoices(sample, seed);
      const letter = /\(([A-Z])\)/.exec(reply)?.[1] ?? /^\s*([A-Z])\b/.exec(reply)?.[1] ?? null;
      if (!letter || LETTERS.indexOf(letter) >= choices.length) return { parsed: null, score: 0 };
      return { parsed: letter, score: right.includes(letter) ? 1 : 0 };
    },
    correctOutput(sample) {
      return sample.type === "QA" ? sample.ideal_answers[0] : orderChoices(sample, seed).right.map((l) => `(${l})`).join(" or ");
    },
  };
}
