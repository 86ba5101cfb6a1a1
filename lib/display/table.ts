/** Tables from row objects or a nodejs-polars DataFrame, as HTML (notebooks) or aligned text (consoles). */

export type Row = Record<string, unknown>;

/** The part of a nodejs-polars DataFrame that tables use (duck-typed: lib never loads polars itself). */
export interface DataFrameLike {
  readonly columns: string[];
  readonly height: number;
  head(length: number): { toRecords(): Row[] };
}

export interface TableOptions {
  /** Rows shown; the rest are counted in a footer (default 20). */
  maxRows?: number;
  /** Columns, in order (default: the keys of the rows, in first-seen order). */
  columns?: string[];
  /** Digits after the point for non-integer numbers (default 4). */
  digits?: number;
  caption?: string;
}

/** Rows to show, the columns, and how many rows there are in all. */
export interface TableSlice {
  columns: string[];
  rows: Row[];
  totalRows: number;
}

export function isDataFrame(value: unknown): value is DataFrameLike {
  const df = value as DataFrameLike | null;
  return df != null && Array.isArray(df.columns) && typeof df.height === "number" && typeof df.head === "function";
}

export function tableSlice(table: Row[] | DataFrameLike, options: TableOptions = {}): TableSlice {
  const maxRows = options.maxRows ?? 20;
  if (isDataFrame(table)) {
    return { columns: options.columns ?? table.columns, rows: table.head(maxRows).toRecords(), totalRows: table.height };
  }
  const columns = options.columns ?? columnsOf(table);
  return { columns, rows: table.slice(0, maxRows), totalRows: table.length };
}

function columnsOf(rows: Row[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) seen.add(key);
  return [...seen];
}

export function formatCell(value: unknown, digits = 4): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(digits);
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function hiddenRowsNote({ rows, totalRows }: TableSlice): string | null {
  const hidden = totalRows - rows.length;
  return hidden > 0 ? `… ${hidden} more row${hidden === 1 ? "" : "s"} (${totalRows} in all)` : null;
}

export function tableToHtml(table: Row[] | DataFrameLike, options: TableOptions = {}): string {
  const slice = tableSlice(table, options);
  const cell = (tag: string, v: unknown) => `<${tag}>${escapeHtml(formatCell(v, options.digits))}</${tag}>`;
  const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : "";
  const head = `<thead><tr>${slice.columns.map((c) => cell("th", c)).join("")}</tr></thead>`;
  const body = slice.rows.map((row) => `<tr>${slice.columns.map((c) => cell("td", row[c])).join("")}</tr>`).join("\n");
  const note = hiddenRowsNote(slice);
  const footer = note ? `<p style="font-size:smaller;color:gray">${escapeHtml(note)}</p>` : "";
  return `<table>${caption}${head}<tbody>\n${body}\n</tbody></table>${footer}`;
}

export function tableToText(table: Row[] | DataFrameLike, options: TableOptions = {}): string {
  const slice = tableSlice(table, options);
  const cells = slice.rows.map((row) => slice.columns.map((c) => formatCell(row[c], options.digits)));
  const widths = slice.columns.map((c, j) => Math.max(c.length, ...cells.map((r) => r[j].length)));
  const numeric = slice.columns.map((c) => slice.rows.every((row) => typeof row[c] === "number" || row[c] == null));
  const line = (values: string[]) =>
    values.map((v, j) => (numeric[j] ? v.padStart(widths[j]) : v.padEnd(widths[j]))).join("  ").trimEnd();
  const lines = [line(slice.columns), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)];
  if (options.caption) lines.unshift(options.caption);
  const note = hiddenRowsNote(slice);
  if (note) lines.push(note);
  return lines.join("\n");
}
