/**
 * A run on disk: `<runDir>/results.jsonl`, one header line naming the eval and the model, then one
 * SampleResult per line in the order they finished. Each line is written with one write() as soon
 * as its sample is scored, so a killed run loses at most the line being written; a torn last line is
 * cut off on resume and the samples already there are not asked again.
 */
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { FileFormatError } from "../io/index.js";
import { sampleResultSchema, zodLine, type SampleResult } from "./structs.js";

export interface RunHeader {
  type: "header";
  eval_spec_id: string;
  model: string;
  created_at: string;
}

export class RunLog {
  readonly path: string;
  private fd: number;
  private closed = false;

  private constructor(path: string, fd: number, readonly header: RunHeader, readonly done: SampleResult[]) {
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
      return new RunLog(path, fd, header, []);
    }
    const { header, results, completeBytes } = readRunLog(path);
    if (header.eval_spec_id !== evalSpecId || header.model !== model) {
      throw new FileFormatError(
        path,
        `holds a run of eval ${header.eval_spec_id} on ${header.model}, not eval ${evalSpecId} on ${model}: use another run folder`,
      );
    }
    const fd = openSync(path, "r+");
    ftruncateSync(fd, completeBytes); // drop a line torn by a kill
    closeSync(fd);
    return new RunLog(path, openSync(path, "a"), header, results);
  }

  append(result: SampleResult): void {
    if (this.closed) return; // a request that finished after the run stopped
    writeSync(this.fd, JSON.stringify(result) + "\n");
  }

  close(): void {
    if (!this.closed) closeSync(this.fd);
    this.closed = true;
  }
}

/** Parse a results.jsonl: its header, its complete lines, and the byte length they span. */
export function readRunLog(path: string): { header: RunHeader; results: SampleResult[]; completeBytes: number } {
  const bytes = readFileSync(path);
  const end = bytes.lastIndexOf(0x0a) + 1; // bytes after the last newline are a torn write
  const lines = bytes.subarray(0, end).toString("utf8").split("\n").slice(0, -1);
  if (lines.length === 0) throw new FileFormatError(path, "has no header line (delete the file to start the run again)");
  const header = parseLine(path, 1, lines[0]) as RunHeader;
  if (header.type !== "header" || typeof header.eval_spec_id !== "string" || typeof header.model !== "string") {
    throw new FileFormatError(path, "line 1 is not a run header");
  }
  const byId = new Map<string, SampleResult>();
  lines.slice(1).forEach((line, i) => {
    const parsed = sampleResultSchema.safeParse(parseLine(path, i + 2, line));
    if (!parsed.success) throw new FileFormatError(path, zodLine(`line ${i + 2}`, parsed.error));
    const result = parsed.data as SampleResult;
    byId.set(result.sample.id, result); // a sample retried after a failed request: the later line wins
  });
  return { header, results: [...byId.values()], completeBytes: end };
}

function parseLine(path: string, n: number, line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new FileFormatError(path, `line ${n} is not JSON`);
  }
}
