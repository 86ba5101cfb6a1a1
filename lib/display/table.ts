/** Tables from row objects or a nodejs-polars DataFrame, as HTML (notebooks) or aligned text (consoles). */

export type Row = Record<string, unknown>;
/** What a table shows: row objects of any type (interfaces too, e.g. EvalRecord[]) or a DataFrame. */
export type TableInput = readonly object[] | DataFrameLike;

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
  /**
   * Show a one-row table on its side, one `key`/`value` line per column. Default: when the row
   * would not fit in `maxWidth` characters (a config with twenty settings, say).
   */
  transpose?: boolean;
  /** Characters per line of the text form (default 100); wider tables print in blocks of columns. */
  maxWidth?: number;
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

export function tableSlice(table: TableInput, options: TableOptions = {}): TableSlice {
  const maxRows = options.maxRows ?? 20;
  if (isDataFrame(table)) {
    return { columns: options.columns ?? table.columns, rows: table.head(maxRows).toRecords(), totalRows: table.height };
  }
  const rows = table as readonly Row[];
  const columns = options.columns ?? columnsOf(rows);
  return { columns, rows: rows.slice(0, maxRows), totalRows: rows.length };
}

function columnsOf(rows: readonly Row[]): string[] {
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

/** The slice with every cell as text, and each column's width in characters (its header included). */
interface TextGrid {
  slice: TableSlice;
  cells: string[][];
  widths: number[];
}

function textGrid(slice: TableSlice, digits?: number): TextGrid {
  const cells = slice.rows.map((row) => slice.columns.map((c) => formatCell(row[c], digits)));
  const widths = slice.columns.map((c, j) => Math.max(c.length, ...cells.map((r) => r[j].length)));
  return { slice, cells, widths };
}

/** Width of one line of the text form: the columns and the two spaces between them. */
function lineWidth(widths: number[]): number {
  return widths.reduce((total, w) => total + w, 0) + 2 * Math.max(0, widths.length - 1);
}

/** One row turned on its side: a `key` and a `value` row per column. */
function transposed({ columns, rows }: TableSlice): TableSlice {
  const pairs = columns.map((key) => ({ key, value: rows[0][key] }));
  return { columns: ["key", "value"], rows: pairs, totalRows: pairs.length };
}

/** The grid to show: a wide single row is transposed unless `transpose` says otherwise. */
function layout(table: TableInput, options: TableOptions): TextGrid {
  const grid = textGrid(tableSlice(table, options), options.digits);
  const single = grid.slice.rows.length === 1 && grid.slice.totalRows === 1;
  const wide = lineWidth(grid.widths) > (options.maxWidth ?? 100);
  const transpose = options.transpose ?? (single && wide);
  return transpose && single ? textGrid(transposed(grid.slice), options.digits) : grid;
}

export function tableToHtml(table: TableInput, options: TableOptions = {}): string {
  const { slice } = layout(table, options);
  const cell = (tag: string, v: unknown) => `<${tag}>${escapeHtml(formatCell(v, options.digits))}</${tag}>`;
  const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : "";
  const head = `<thead><tr>${slice.columns.map((c) => cell("th", c)).join("")}</tr></thead>`;
  const body = slice.rows.map((row) => `<tr>${slice.columns.map((c) => cell("td", row[c])).join("")}</tr>`).join("\n");
  const note = hiddenRowsNote(slice);
  const footer = note ? `<p style="font-size:smaller;color:gray">${escapeHtml(note)}</p>` : "";
  // Front ends clip or centre an output wider than the page; a scrolling box keeps every column reachable.
  return `<div style="overflow-x:auto;max-width:100%"><table>${caption}${head}<tbody>\n${body}\n</tbody></table>${footer}</div>`;
}

/**
 * Splits column indices into blocks whose lines fit in `maxWidth` (a block holds at least two
 * columns). Every block starts with column 0, so that its rows can still be told apart.
 */
export function columnBlocks(widths: number[], maxWidth: number): number[][] {
  if (widths.length === 0) return [[]];
  const blocks = [[0]];
  let width = widths[0];
  for (let j = 1; j < widths.length; j++) {
    let block = blocks[blocks.length - 1];
    if (block.length > 1 && width + 2 + widths[j] > maxWidth) {
      block = [0];
      blocks.push(block);
      width = widths[0];
    }
    block.push(j);
    width += 2 + widths[j];
  }
  return blocks;
}

export function tableToText(table: TableInput, options: TableOptions = {}): string {
  const { slice, cells, widths } = layout(table, options);
  const numeric = slice.columns.map((c) => slice.rows.every((row) => typeof row[c] === "number" || row[c] == null));
  const blockLines = (block: number[]) => {
    const line = (values: string[]) =>
      block.map((j) => (numeric[j] ? values[j].padStart(widths[j]) : values[j].padEnd(widths[j]))).join("  ").trimEnd();
    return [line(slice.columns), block.map((j) => "-".repeat(widths[j])).join("  "), ...cells.map(line)].join("\n");
  };
  const blocks = columnBlocks(widths, options.maxWidth ?? 100).map(blockLines);
  const lines = [blocks.join("\n\n")];
  if (options.caption) lines.unshift(options.caption);
  const note = hiddenRowsNote(slice);
  if (note) lines.push(note);
  return lines.join("\n");
}
