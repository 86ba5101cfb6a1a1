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

export const MINBPE_VERSION = "minbpe v1";

export interface BpeModelData {
  pattern: string;
  specialTokens: [string, number][];
  merges: [number, number][];
}

export function formatModel(model: BpeModelData): string {
  const lines = [MINBPE_VERSION, model.pattern, String(model.specialTokens.length)];
  for (const [name, id] of model.specialTokens) {
    if (/\s/.test(name)) throw new Error(`Special token "${name}" contains whitespace, which minbpe's format cannot store`);
    lines.push(`${name} ${id}`);
  }
  for (const [a, b] of model.merges) lines.push(`${a} ${b}`);
  return lines.join("\n") + "\n";
}

export function parseModel(text: string): BpeModelData {
  const lines = text.split("\n").map((line) => line.replace(/\r$/, ""));
  if (lines[0].trim() !== MINBPE_VERSION) throw new Error(`Not a minbpe model: first line is "${lines[0]}"`);
  const pattern = lines[1] ?? "";
  const numSpecial = Number.parseInt(lines[2], 10);
  if (!Number.isInteger(numSpecial)) throw new Error(`Bad special-token count "${lines[2]}"`);
  const specialTokens: [string, number][] = [];
  for (let i = 0; i < numSpecial; i++) {
    const [name, id] = lines[3 + i].trim().split(/\s+/);
    specialTokens.push([name, Number.parseInt(id, 10)]);
  }
  const merges: [number, number][] = [];
  for (const line of lines.slice(3 + numSpecial)) {
    if (line.trim() === "") continue;
    const [a, b] = line.trim().split(/\s+/).map(Number);
    if (!Number.isInteger(a) || !Number.isInteger(b)) throw new Error(`Bad merge line "${line}"`);
    merges.push([a, b]);
  }
  return { pattern, specialTokens, merges };
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
