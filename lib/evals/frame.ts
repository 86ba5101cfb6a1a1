/** An EvalResult as a polars DataFrame: one row per sample, its splits as columns. */
import pl from "nodejs-polars";
import type { EvalResult } from "./structs.js";

export function resultsFrame(result: EvalResult): pl.DataFrame {
  const splitsOf = (r: EvalResult["sample_results"][number]) => r.sample?.splits ?? {};
  const splitNames = [...new Set(result.sample_results.flatMap((r) => Object.keys(splitsOf(r))))].sort();
  const column = <T>(f: (r: EvalResult["sample_results"][number]) => T) => result.sample_results.map(f);
  const columns: Record<string, unknown[]> = {
    id: column((r) => r.sample?.id ?? null),
    type: column((r) => r.sample?.type ?? null),
    output: column((r) => asText(r.output)),
    output_parsed: column((r) => r.output_parsed),
    output_correct: column((r) => asText(r.output_correct)),
    score: column((r) => r.score),
    unparsed: column((r) => r.output_parsed === null),
  };
  for (const name of splitNames) columns[`split_${name}`] = column((r) => splitsOf(r)[name] ?? null);
  return pl.DataFrame(columns);
}

/** One string column: Evalugator also allows lists (several right answers) and probability maps here. */
function asText(value: unknown): string | null {
  if (value === null) return null;
  return typeof value === "string" ? value : JSON.stringify(value);
}
