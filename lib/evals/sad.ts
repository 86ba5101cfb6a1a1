/**
 * The Situational Awareness Dataset (SAD, github.com/LRudL/sad) where a learner has cloned and
 * unzipped it (the course does not ship it: its authors keep the questions out of public text so
 * that models are not trained on them). SAD's tasks are Evalugator batches: JSONL files of samples,
 * one per line, mostly `MCQuestion` ({ body, choices_right, choices_wrong }) and some `QA`.
 *
 *   const tasks = findSadTasks();                         // task folders under data/sad holding batch files
 *   const spec = sadEval(loadSadTask(tasks[0]), { seed: 1 });
 *   const result = await runEval(spec, provider);
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { z } from "zod";
import { FileFormatError } from "../io/index.js";
import { Rng } from "../util/random.js";
import { contentId, zodLine, type EvalSpec, type MCQuestionSample, type Message, type QASample, type Sample, type Scored } from "./structs.js";

export const SAD_DEFAULT_ROOT = "data/sad";

const message = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() });
const body = z.union([z.string(), z.array(message)]);
const splits = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional();
const sadLine = z.discriminatedUnion("type", [
  z.object({ type: z.literal("MCQuestion"), id: z.string().optional(), body, choices_right: z.array(z.string()).min(1), choices_wrong: z.array(z.string()), splits }),
  z.object({ type: z.literal("QA"), id: z.string().optional(), body, ideal_answers: z.array(z.string()).min(1), splits }),
]);

export interface SadTask {
  name: string;
  dir: string;
  samples: Sample[];
}

/** Folders under `root` that hold batch files (structs/batch/*.jsonl); [] when SAD is not there. */
export function findSadTasks(root = SAD_DEFAULT_ROOT): string[] {
  if (!existsSync(root)) return [];
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 6) return;
    const batch = join(dir, "structs", "batch");
    if (existsSync(batch) && readdirSync(batch).some((f) => f.endsWith(".jsonl"))) found.push(dir);
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!name.startsWith(".") && name !== "structs" && statSync(path).isDirectory()) walk(path, depth + 1);
    }
  };
  walk(root, 0);
  return found.sort();
}

/** Every sample of a task folder's batch files; a bad line throws one line naming the file and line. */
export function loadSadTask(dir: string): SadTask {
  const batchDir = join(dir, "structs", "batch");
  if (!existsSync(batchDir)) throw new Error(`${dir}: no structs/batch folder (is this a SAD task folder, and did you unzip SAD?)`);
  const samples: Sample[] = [];
  const seen = new Set<string>();
  for (const file of readdirSync(batchDir).filter((f) => f.endsWith(".jsonl")).sort()) {
    const path = join(batchDir, file);
    readFileSync(path, "utf8").split("\n").forEach((line, i) => {
      if (!line.trim()) return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new FileFormatError(path, `line ${i + 1} is not JSON`);
      }
      const parsed = sadLine.safeParse(value);
      if (!parsed.success) throw new FileFormatError(path, zodLine(`line ${i + 1}`, parsed.error));
      const sample = toSample(parsed.data, relative(dir, path));
      if (seen.has(sample.id)) return;
      seen.add(sample.id);
      samples.push(sample);
    });
  }
  return { name: dir.split(/[\\/]/).filter(Boolean).pop() ?? dir, dir, samples };
}

function toSample(line: z.infer<typeof sadLine>, file: string): Sample {
  const s: Record<string, string> = { file };
  for (const [k, v] of Object.entries(line.splits ?? {})) s[k] = String(v);
  if (line.type === "QA") {
    const sample: QASample = { type: "QA", id: "", body: line.body, ideal_answers: line.ideal_answers, splits: s };
    sample.id = line.id ?? contentId({ type: "QA", body: line.body, ideal_answers: line.ideal_answers });
    return sample;
  }
  const sample: MCQuestionSample = { type: "MCQuestion", id: "", body: line.body, choices_right: line.choices_right, choices_wrong: line.choices_wrong, splits: s };
  sample.id = line.id ?? contentId({ type: "MCQuestion", body: line.body, choices_right: line.choices_right, choices_wrong: line.choices_wrong });
  return sample;
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
