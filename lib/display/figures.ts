/** Plotly figure builders for the course's recurring plots; pass the result to showPlot. */
import type { Figure } from "./plotly.js";

export interface HeatmapOptions {
  title?: string;
  /** Column labels (default 0..n-1) and row labels (default 0..m-1). */
  x?: (string | number)[];
  y?: (string | number)[];
  /** Text written in each cell (rows × columns); `<br>` breaks a line. Its colour contrasts with the cell's. */
  text?: string[][];
  textSize?: number;
  /** A plotly colorscale name or [fraction, colour] stops (default: white to dark blue, like matplotlib's Blues). */
  colorscale?: string | [number, string][];
  zmin?: number;
  zmax?: number;
  showScale?: boolean;
  width?: number;
  height?: number;
}

/** matplotlib's "Blues" (plotly's own "Blues" runs the other way: dark for small values). */
export const BLUES: [number, string][] = [
  "#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b",
].map((colour, i) => [i / 8, colour]);

/** A heatmap with row 0 at the top, like a printed matrix, optionally with text in every cell. */
export function heatmap(z: number[][], options: HeatmapOptions = {}): Figure {
  const rows = z.length;
  const columns = rows ? z[0].length : 0;
  const x = heatmapAxis(options.x ?? range(columns));
  const y = heatmapAxis(options.y ?? range(rows));
  const colorscale = options.colorscale ?? BLUES;
  const trace: Record<string, unknown> = {
    type: "heatmap",
    z,
    x: x.values,
    y: y.values,
    colorscale,
    showscale: options.showScale ?? !options.text,
    hoverongaps: false,
  };
  if (options.zmin !== undefined) trace.zmin = options.zmin;
  if (options.zmax !== undefined) trace.zmax = options.zmax;
  if (options.text) {
    const colours = typeof colorscale === "string" ? null : cellTextColours(z, colorscale, options.zmin, options.zmax);
    trace.text = colours ? options.text.map((row, i) => row.map((text, j) => coloured(text, colours[i][j]))) : options.text;
    trace.texttemplate = "%{text}";
    // A named colorscale has no stops to read here: "auto" lets plotly pick the contrasting colour itself.
    trace.textfont = { size: options.textSize ?? 8, ...(colours ? {} : { color: "auto" }) };
    trace.hovertemplate = "%{y} → %{x}: %{z}<extra></extra>";
  }
  return {
    data: [trace],
    layout: {
      title: options.title ? { text: options.title } : undefined,
      width: options.width,
      height: options.height ?? 600,
      xaxis: { ...x.axis, side: "top", tickfont: { size: 10 } },
      yaxis: { ...y.axis, autorange: "reversed", tickfont: { size: 10 } },
      margin: { l: 40, r: 20, t: options.title ? 90 : 50, b: 20 },
    },
  };
}

/**
 * Where a heatmap's cells go along one axis. Plotly gives a category axis one slot per distinct
 * label, so a repeated label (the two m's of "emma") would draw two rows on top of each other:
 * then the cells go at positions 0..n-1 and the labels become the tick text.
 */
function heatmapAxis(labels: (string | number)[]): { values: (string | number)[]; axis: Record<string, unknown> } {
  if (new Set(labels).size === labels.length) return { values: labels, axis: { type: "category" } };
  const positions = range(labels.length);
  return {
    values: positions,
    axis: { type: "linear", tickmode: "array", tickvals: positions, ticktext: labels.map(String), showgrid: false, zeroline: false },
  };
}

/** Text in a given colour, line by line (plotly's text markup: `<span style>`, lines split at `<br>`). */
function coloured(text: string, colour: string | null): string {
  if (colour === null || text === "") return text;
  return text
    .split(/<br\s*\/?>/i)
    .map((line) => (line ? `<span style="color:${colour}">${line}</span>` : line))
    .join("<br>");
}

/** The readable text colour for each cell: its background is the colorscale at the cell's value. */
function cellTextColours(z: number[][], colorscale: [number, string][], zmin?: number, zmax?: number): (string | null)[][] {
  const finite = z.flat().filter((v) => Number.isFinite(v));
  const low = zmin ?? finite.reduce((m, v) => Math.min(m, v), Infinity);
  const high = zmax ?? finite.reduce((m, v) => Math.max(m, v), -Infinity);
  return z.map((row) =>
    row.map((v) => {
      if (!Number.isFinite(v)) return null;
      const t = high > low ? Math.min(1, Math.max(0, (v - low) / (high - low))) : 0;
      return contrastingTextColour(colourAt(colorscale, t));
    }),
  );
}

/** The colour a colorscale gives at t in [0, 1], as [r, g, b] (0..255), linear between the stops as plotly draws it. */
export function colourAt(colorscale: [number, string][], t: number): [number, number, number] {
  const stops = colorscale.map(([at, colour]) => [at, parseColour(colour)] as const);
  let i = 1;
  while (i < stops.length - 1 && stops[i][0] < t) i++;
  const [a, from] = stops[i - 1];
  const [b, to] = stops[i];
  const f = b > a ? Math.min(1, Math.max(0, (t - a) / (b - a))) : 0;
  return [0, 1, 2].map((k) => from[k] + f * (to[k] - from[k])) as [number, number, number];
}

/**
 * "white" on dark backgrounds, "black" on light ones: whichever contrasts more (WCAG's contrast ratio,
 * (L1 + 0.05) / (L2 + 0.05) of relative luminances), i.e. white below a luminance of about 0.18.
 */
export function contrastingTextColour(background: [number, number, number]): "white" | "black" {
  const luminance = relativeLuminance(background);
  return 1.05 / (luminance + 0.05) > (luminance + 0.05) / 0.05 ? "white" : "black";
}

/** WCAG relative luminance of an sRGB colour (0..255 channels): 0 for black, 1 for white. */
export function relativeLuminance([r, g, b]: [number, number, number]): number {
  const linear = (channel: number) => {
    const c = channel / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/** "#rgb", "#rrggbb" or "rgb(r, g, b)" / "rgba(...)" as [r, g, b]. */
function parseColour(colour: string): [number, number, number] {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(colour.trim());
  if (hex) {
    const digits = hex[1].length === 3 ? [...hex[1]].map((d) => d + d).join("") : hex[1];
    return [0, 2, 4].map((k) => parseInt(digits.slice(k, k + 2), 16)) as [number, number, number];
  }
  const rgb = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)/i.exec(colour.trim());
  if (rgb) return [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])];
  throw new Error(`heatmap: colorscale colour ${JSON.stringify(colour)} is not #rrggbb or rgb(r, g, b)`);
}

export interface Series {
  name: string;
  ys: ArrayLike<number>;
  /** This series' own x values (default: the chart's xs, else 0..n-1). */
  xs?: ArrayLike<number>;
  /** Line style, e.g. "dash" for a reference level. */
  dash?: "solid" | "dash" | "dot" | "dashdot";
}

export interface LineChartOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  logY?: boolean;
  /** Draw dots at the points too (for short series). */
  markers?: boolean;
  width?: number;
  height?: number;
}

/** Lines sharing an x axis, e.g. lineChart(steps, [{ name: "train", ys: losses }]). */
export function lineChart(xs: ArrayLike<number> | null, series: Series[], options: LineChartOptions = {}): Figure {
  const data = series.map((s) => ({
    type: "scatter",
    mode: options.markers ? "lines+markers" : "lines",
    name: s.name,
    x: Array.from(s.xs ?? xs ?? range(s.ys.length)),
    y: Array.from(s.ys),
    ...(s.dash ? { line: { dash: s.dash } } : {}),
  }));
  return {
    data,
    layout: {
      title: options.title ? { text: options.title } : undefined,
      width: options.width,
      height: options.height ?? 400,
      xaxis: { title: { text: options.xTitle ?? "" } },
      yaxis: { title: { text: options.yTitle ?? "" }, type: options.logY ? "log" : "linear" },
      showlegend: series.length > 1,
    },
  };
}

/**
 * Figures side by side as one figure of subplots: each figure's traces go on
 * their own axes; its axis settings and title come along.
 */
export function sideBySide(
  figures: Figure[],
  options: { title?: string; width?: number; height?: number; gap?: number } = {},
): Figure {
  const gap = options.gap ?? 0.06;
  const width = (1 - gap * (figures.length - 1)) / figures.length;
  const data: object[] = [];
  const layout: Record<string, unknown> = {
    title: options.title ? { text: options.title } : undefined,
    width: options.width,
    height: options.height ?? 600,
    annotations: [] as object[],
    margin: { l: 40, r: 20, t: 100, b: 20 },
  };
  figures.forEach((figure, i) => {
    const suffix = i === 0 ? "" : String(i + 1);
    const sub = (figure.layout ?? {}) as Record<string, unknown>;
    const left = i * (width + gap);
    for (const trace of figure.data) data.push({ ...trace, xaxis: `x${suffix}`, yaxis: `y${suffix}` });
    layout[`xaxis${suffix}`] = { ...(sub.xaxis as object), domain: [left, left + width], anchor: `y${suffix}` };
    layout[`yaxis${suffix}`] = { ...(sub.yaxis as object), anchor: `x${suffix}` };
    const title = (sub.title as { text?: string } | undefined)?.text;
    if (title) {
      (layout.annotations as object[]).push({
        text: title,
        x: left + width / 2,
        y: 1.07,
        xref: "paper",
        yref: "paper",
        xanchor: "center",
        yanchor: "bottom",
        showarrow: false,
        font: { size: 14 },
      });
    }
  });
  return { data, layout };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
