/** Plotly figure builders for the course's recurring plots; pass the result to showPlot. */
import type { Figure } from "./plotly.js";

export interface HeatmapOptions {
  title?: string;
  /** Column labels (default 0..n-1) and row labels (default 0..m-1). */
  x?: (string | number)[];
  y?: (string | number)[];
  /** Text written in each cell (rows × columns); `<br>` breaks a line. */
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
  const trace: Record<string, unknown> = {
    type: "heatmap",
    z,
    x: options.x ?? range(columns),
    y: options.y ?? range(rows),
    colorscale: options.colorscale ?? BLUES,
    showscale: options.showScale ?? !options.text,
    hoverongaps: false,
  };
  if (options.zmin !== undefined) trace.zmin = options.zmin;
  if (options.zmax !== undefined) trace.zmax = options.zmax;
  if (options.text) {
    trace.text = options.text;
    trace.texttemplate = "%{text}";
    trace.textfont = { size: options.textSize ?? 8, color: "gray" };
    trace.hovertemplate = "%{y} → %{x}: %{z}<extra></extra>";
  }
  return {
    data: [trace],
    layout: {
      title: options.title ? { text: options.title } : undefined,
      width: options.width,
      height: options.height ?? 600,
      xaxis: { type: "category", side: "top", tickfont: { size: 10 } },
      yaxis: { type: "category", autorange: "reversed", tickfont: { size: 10 } },
      margin: { l: 40, r: 20, t: options.title ? 90 : 50, b: 20 },
    },
  };
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
