/**
 * A run on disk: `<runDir>/results.jsonl`, one header line naming the eval and the model, then one
 * SampleResult per line in the order they finished, each followed by a tally line: what the
 * provider had been asked so far in this part of the run (a part ends where the run stopped and
 * was resumed). Each sample line and its tally line go out in one write() as soon as the sample is
 * scored, so a killed run loses at most what was being written; a torn last line is cut off on
 * resume, the samples already there are not asked again, and the run's tally is the last tally of
 * each part, summed.
 */
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { FileFormatError } from "../io/index.js";
import { runTallySchema, sampleResultSchema, zodLine, type RunSampleResult, type RunTally } from "./structs.js";

export interface RunHeader {
  type: "header";
  eval_spec_id: string;
  model: string;
  created_at: string;
}

/** A tally line: what one part of the run had asked of the provider when the line was written. */
export interface TallyLine extends RunTally {
  type: "tally";
  part: number;
}

export class RunLog {
  readonly path: string;
  private fd: number;
  private closed = false;

  private constructor(
    path: string,
    fd: number,
    readonly header: RunHeader,
    readonly done: RunSampleResult[],
    /** The tally of the parts before this one, summed; null for a new run. */
    readonly earlierTally: RunTally | null,
    /** This part's number (1 for a new run). */
    readonly part: number,
  ) {
    this.path = path;
    this.fd = fd;
  }

  /** Open (or create) the log of a run; the results already in it are in `done`. */
  static open(runDir: string, evalSpecId: string, model: string): RunLog {
    mkdirSync(runDir, { recursive: true });
    const path = join(runDir, "results.jsonl");
    if (!existsSync(path)) {
      const fd = openSync(path, "a");
      const header: RunHeader = { type: "header", eval_spec_id: evalSpecId, model, created_at: new Date().toISOString() };
      writeSync(fd, JSON.stringify(header) + "\n");
      return new RunLog(path, fd, header, [], null, 1);
    }
    const { header, results, tally, parts, completeBytes } = readRunLog(path);
    if (header.eval_spec_id !== evalSpecId || header.model !== model) {
      throw new FileFormatError(
        path,
        `holds a run of eval ${header.eval_spec_id} on ${header.model}, not eval ${evalSpecId} on ${model}: use another run folder`,
      );
    }
    const fd = openSync(path, "r+");
    ftruncateSync(fd, completeBytes); // drop a line torn by a kill
    closeSync(fd);
    return new RunLog(path, openSync(path, "a"), header, results, tally, parts + 1);
  }

  /** Log a scored sample and this part's tally after it. */
  append(result: RunSampleResult, tally: RunTally): void {
    if (this.closed) return; // a request that finished after the run stopped
    writeSync(this.fd, JSON.stringify(result) + "\n" + this.tallyLine(tally));
  }

  /** Log this part's final tally (requests that failed or finished after the last sample count too) and close. */
  close(tally: RunTally): void {
    if (this.closed) return;
    writeSync(this.fd, this.tallyLine(tally));
    closeSync(this.fd);
    this.closed = true;
  }

  private tallyLine(tally: RunTally): string {
    const line: TallyLine = { type: "tally", part: this.part, ...tally };
    return JSON.stringify(line) + "\n";
  }
}

/** Sum two tallies; null (no earlier part) adds nothing, and a cost is known only where every part's is. */
export function addTallies(a: RunTally | null, b: RunTally): RunTally {
  if (!a) return { ...b };
  const cost = a.cost_usd === null || b.cost_usd === null ? null : a.cost_usd + b.cost_usd;
  return {
    requests: a.requests + b.requests,
    retries: a.retries + b.retries,
    failures: a.failures + b.failures,
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    cost_usd: cost,
  };
}

export interface RunLogContents {
  header: RunHeader;
  results: RunSampleResult[];
  /** The last tally line of each part, summed; null where the log has none (a log written before tallies were kept). */
  tally: RunTally | null;
  /** The highest part number in the log (0 without tally lines). */
  parts: number;
  /** The byte length of the complete lines. */
  completeBytes: number;
}

/** Parse a results.jsonl: its header, its complete lines, the run's tally so far and the byte length they span. */
export function readRunLog(path: string): RunLogContents {
  const bytes = readFileSync(path);
  const end = bytes.lastIndexOf(0x0a) + 1; // bytes after the last newline are a torn write
  const lines = bytes.subarray(0, end).toString("utf8").split("\n").slice(0, -1);
  if (lines.length === 0) throw new FileFormatError(path, "has no header line (delete the file to start the run again)");
  const header = parseLine(path, 1, lines[0]) as RunHeader;
  if (header.type !== "header" || typeof header.eval_spec_id !== "string" || typeof header.model !== "string") {
    throw new FileFormatError(path, "line 1 is not a run header");
  }
  const byId = new Map<string, RunSampleResult>();
  const lastOfPart = new Map<number, RunTally>();
  lines.slice(1).forEach((line, i) => {
    const n = i + 2;
    const value = parseLine(path, n, line) as { type?: unknown; part?: unknown };
    if (value && value.type === "tally") {
      const { type: _type, part, ...counts } = value;
      const tally = runTallySchema.safeParse(counts);
      if (!Number.isInteger(part) || (part as number) < 1) throw new FileFormatError(path, `line ${n}: a tally line needs a part number >= 1`);
      if (!tally.success) throw new FileFormatError(path, zodLine(`line ${n}`, tally.error));
      lastOfPart.set(part as number, tally.data as RunTally);
      return;
    }
    const parsed = sampleResultSchema.safeParse(value);
    if (!parsed.success) throw new FileFormatError(path, zodLine(`line ${n}`, parsed.error));
    const result = parsed.data as RunSampleResult;
    if (!result.sample) throw new FileFormatError(path, `line ${n}.sample: a run log's results each keep their sample (it is what the run resumes by)`);
    byId.set(result.sample.id, result); // a sample retried after a failed request: the later line wins
  });
  const tally = [...lastOfPart.values()].reduce<RunTally | null>((sum, t) => addTallies(sum, t), null);
  const parts = lastOfPart.size ? Math.max(...lastOfPart.keys()) : 0;
  return { header, results: [...byId.values()], tally, parts, completeBytes: end };
}

function parseLine(path: string, n: number, line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new FileFormatError(path, `line ${n} is not JSON`);
  }
}
