/**
 * minbpe's file format, so that files go both ways between this course and minbpe:
 *
 *   <prefix>.model           <prefix>.vocab (for humans only: lossy)
 *   minbpe v1                [\u0000] 0
 *   <split pattern or "">    ...
 *   <number of specials>     [ ][t] -> [ t] 256
 *   <special> <id>           ...
 *   <a> <b>    (merge i makes id 256 + i)
 */
import { renderToken } from "./bytes.js";
import { compileSplitPattern } from "./patterns.js";

export const MINBPE_VERSION = "minbpe v1";

export interface BpeModelData {
  pattern: string;
  specialTokens: [string, number][];
  merges: [number, number][];
}

export function formatModel(model: BpeModelData): string {
  if (model.pattern !== model.pattern.trim() || model.pattern.includes("\n")) {
    throw new Error(`Split pattern ${JSON.stringify(model.pattern)} has a newline or surrounding whitespace, which minbpe's format cannot store`);
  }
  const lines = [MINBPE_VERSION, model.pattern, String(model.specialTokens.length)];
  for (const [name, id] of model.specialTokens) {
    if (/\s/.test(name)) throw new Error(`Special token "${name}" contains whitespace, which minbpe's format cannot store`);
    lines.push(`${name} ${id}`);
  }
  for (const [a, b] of model.merges) lines.push(`${a} ${b}`);
  return lines.join("\n") + "\n";
}

/**
 * Reads minbpe's .model text, rejecting what minbpe's `load` rejects (and what would give a broken
 * vocabulary) with the line number: `source` names the file in errors. The final newline is optional.
 */
export function parseModel(text: string, source = "the .model text"): BpeModelData {
  const lines = text.split("\n").map((line) => line.replace(/\r$/, ""));
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  const fail = (lineNumber: number, problem: string) => new Error(`line ${lineNumber} of ${source}: ${problem}`);

  if (lines[0].trim() !== MINBPE_VERSION) throw fail(1, `expected "${MINBPE_VERSION}", found ${quote(lines[0])} (not a minbpe model)`);
  if (lines.length < 2) throw fail(2, "missing: the split pattern (an empty line for none)");
  const pattern = lines[1].trim(); // as minbpe reads it
  if (pattern !== "") {
    try {
      compileSplitPattern(pattern);
    } catch (error) {
      throw fail(2, (error as Error).message);
    }
  }
  if (lines.length < 3) throw fail(3, "missing: the number of special tokens");
  if (!/^\d+$/.test(lines[2].trim())) {
    throw fail(3, `the number of special tokens must be a non-negative integer, found ${quote(lines[2])}`);
  }
  const numSpecial = Number(lines[2].trim());
  if (3 + numSpecial > lines.length) {
    throw fail(lines.length + 1, `the file ends after ${lines.length - 3} of the ${numSpecial} special-token lines`);
  }

  const specialTokens: [string, number][] = [];
  const specialLine = new Map<string, number>();
  for (let i = 0; i < numSpecial; i++) {
    const lineNumber = 4 + i;
    const fields = fieldsOf(lines[3 + i]);
    if (fields.length !== 2) {
      throw fail(lineNumber, `a special-token line is "<name> <id>", found ${quote(lines[3 + i])}`);
    }
    const [name, idText] = fields;
    const id = parseId(idText);
    if (id === null) throw fail(lineNumber, `special token ${name}: the id must be a non-negative integer, found ${quote(idText)}`);
    const previous = specialTokens.find(([other, otherId]) => other === name || otherId === id);
    if (previous) throw fail(lineNumber, `special token ${name} ${id} repeats the name or id of line ${specialLine.get(previous[0])}`);
    specialTokens.push([name, id]);
    specialLine.set(name, lineNumber);
  }

  const merges: [number, number][] = [];
  const mergeLine = new Map<string, number>();
  for (let index = 3 + numSpecial; index < lines.length; index++) {
    const lineNumber = index + 1;
    const fields = fieldsOf(lines[index]);
    if (fields.length === 0) throw fail(lineNumber, "a blank line among the merges (minbpe's load rejects it too)");
    if (fields.length !== 2) throw fail(lineNumber, `a merge line is two ids "<a> <b>", found ${quote(lines[index])}`);
    const [a, b] = fields.map(parseId);
    if (a === null || b === null) throw fail(lineNumber, `merge ids must be non-negative integers, found ${quote(lines[index])}`);
    const newId = 256 + merges.length;
    if (a >= newId || b >= newId) {
      throw fail(lineNumber, `merge ${merges.length} makes id ${newId} from (${a}, ${b}), but id ${Math.max(a, b)} is not defined yet`);
    }
    const key = `${a} ${b}`;
    if (mergeLine.has(key)) throw fail(lineNumber, `merge (${a}, ${b}) repeats line ${mergeLine.get(key)}`);
    mergeLine.set(key, lineNumber);
    merges.push([a, b]);
  }

  const firstSpecialId = 256 + merges.length;
  for (const [name, id] of specialTokens) {
    if (id < firstSpecialId) {
      throw fail(specialLine.get(name)!, `special token ${name} has id ${id}, already a byte or merge token (special ids start at ${firstSpecialId})`);
    }
  }
  return { pattern, specialTokens, merges };
}

function fieldsOf(line: string): string[] {
  const trimmed = line.trim();
  return trimmed === "" ? [] : trimmed.split(/\s+/);
}

/** A token id: decimal digits only, below 2^31 (ids index typed arrays elsewhere). */
function parseId(text: string): number | null {
  if (!/^\d+$/.test(text)) return null;
  const id = Number(text);
  return id < 2 ** 31 ? id : null;
}

function quote(line: string): string {
  return JSON.stringify(line.length > 60 ? `${line.slice(0, 57)}...` : line);
}

/** minbpe's .vocab: every token rendered, merges shown as [left][right] -> [token] id. */
export function formatVocab(
  tokenBytes: (id: number) => Uint8Array,
  merges: readonly (readonly [number, number])[],
  specialTokens: Iterable<[string, number]>,
): string {
  const lines: string[] = [];
  for (let id = 0; id < 256; id++) lines.push(`[${renderToken(tokenBytes(id))}] ${id}`);
  merges.forEach(([a, b], i) => {
    const parts = [a, b, 256 + i].map((id) => renderToken(tokenBytes(id)));
    lines.push(`[${parts[0]}][${parts[1]}] -> [${parts[2]}] ${256 + i}`);
  });
  for (const [name, id] of specialTokens) lines.push(`[${name}] ${id}`);
  return lines.join("\n") + "\n";
}
