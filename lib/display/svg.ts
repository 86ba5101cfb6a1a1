/**
 * A static SVG picture of a plotly figure, drawn here in the kernel, for front ends that run no
 * JavaScript (GitHub's notebook viewer, nbviewer, an untrusted notebook, an HTML export opened
 * without its plotly.js): the figure's HTML output shows it until plotly.js draws over it.
 *
 * No npm library renders plotly figures without a browser (plotly's own image export, Kaleido,
 * drives a headless Chromium), so this draws the subset the course's figures use: scatter traces
 * (lines, markers, dashes), bars, heatmaps with cell text, linear / log / category axes (reversed,
 * on top, with tick text), subplots side by side (axis domains), titles, paper annotations,
 * a legend and a colour bar. Anything else is left out of the picture, not guessed at.
 */
import { colourAt } from "./figures.js";
import type { Figure } from "./plotly.js";

type Value = string | number | null | undefined;
type Stops = [number, string][];

interface Trace {
  type?: string;
  name?: string;
  mode?: string;
  x?: ArrayLike<Value>;
  y?: ArrayLike<Value>;
  z?: ArrayLike<ArrayLike<Value>>;
  text?: ArrayLike<ArrayLike<string>>;
  xaxis?: string;
  yaxis?: string;
  zmin?: number;
  zmax?: number;
  colorscale?: string | Stops;
  showscale?: boolean;
  showlegend?: boolean;
  opacity?: number;
  textfont?: { size?: number; color?: string };
  line?: { dash?: string; width?: number; color?: string };
  marker?: { color?: string; size?: number };
}

interface AxisLayout {
  type?: string;
  autorange?: boolean | string;
  side?: string;
  anchor?: string;
  showgrid?: boolean;
  domain?: [number, number];
  tickvals?: number[];
  ticktext?: string[];
  title?: string | { text?: string };
  tickfont?: { size?: number };
}

interface Annotation {
  text?: string;
  x?: number;
  y?: number;
  xref?: string;
  yref?: string;
  xanchor?: string;
  yanchor?: string;
  font?: { size?: number; color?: string };
}

/** One axis as drawn: a data value → a pixel, and the ticks to write. */
interface Axis {
  pixel(value: Value): number | null;
  /** Pixel width of one category or heatmap cell. */
  band: number;
  ticks: { at: number; label: string }[];
  layout: AxisLayout;
  /** Pixel range [start, end] (y: bottom, top). */
  span: [number, number];
  /** Where the tick labels line up: the plot area's top or bottom (x), its subplot's left edge (y). */
  edge: number;
  /** The pixel extent across the axis that its grid lines cover. */
  across: [number, number];
  grid: boolean;
}

/** plotly.js's default trace colours. */
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const DASHES: Record<string, string> = { dash: "9,9", dot: "3,3", dashdot: "9,3,3,3", longdash: "15,6" };
const NAMED_SCALES: Record<string, string[]> = {
  Blues: ["#08306b", "#2171b5", "#6baed6", "#c6dbef", "#f7fbff"],
  Greys: ["#000000", "#ffffff"],
  Viridis: ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"],
  RdBu: ["#053061", "#4393c3", "#f7f7f7", "#d6604d", "#67001f"],
};
const COLOUR_BAR_WIDTH = 70;
const MAX_POINTS = 2000;

/** The figure as one `<svg>` element (sized by its layout, scaling down to the page's width). */
export function figureSvg(figure: Figure): string {
  const layout = (figure.layout ?? {}) as Record<string, unknown>;
  const traces = figure.data as Trace[];
  // No layout width: plotly fills the output's width, so the picture is drawn 900 wide and scaled to it.
  const autoWidth = layout.width === undefined;
  const width = (layout.width as number | undefined) ?? 900;
  const height = (layout.height as number | undefined) ?? 450;
  const margin = { l: 80, r: 80, t: 100, b: 80, ...(layout.margin as object) } as Record<"l" | "r" | "t" | "b", number>;
  const scaled = traces.find((t) => t.type === "heatmap" && t.showscale !== false);
  const entries = legendEntries(traces, layout);
  const legendWidth = entries.length ? 40 + Math.max(...entries.map((e) => e.name.length)) * 7 : 0;
  const right = width - margin.r - (scaled ? COLOUR_BAR_WIDTH : 0) - legendWidth;
  const plot = { left: margin.l, right: Math.max(right, margin.l + 50), top: margin.t, bottom: height - margin.b };

  const axes = new Map<string, Axis>();
  const axisFor = (id: string, horizontal: boolean) => {
    if (!axes.has(id)) axes.set(id, buildAxis(id, horizontal, layout, traces, plot));
    return axes.get(id)!;
  };
  const placed = traces.map((trace) => ({ trace, x: axisFor(trace.xaxis ?? "x", true), y: axisFor(trace.yaxis ?? "y", false) }));
  const parts = [...axes].map(([id, axis]) => gridLines(axis, id.startsWith("x")));
  placed.forEach(({ trace, x, y }, i) => parts.push(drawTrace(trace, x, y, COLOURS[i % COLOURS.length])));
  for (const [id, axis] of axes) parts.push(drawAxis(axis, id.startsWith("x")));
  if (scaled) parts.push(colourBar(scaled, plot));
  parts.push(legend(entries, plot));
  for (const note of (layout.annotations as Annotation[] | undefined) ?? []) parts.push(annotation(note, plot, axes));
  const title = titleText(layout.title as AxisLayout["title"]);
  if (title) parts.push(text(width / 2, Math.max(18, margin.t / 2), title, { size: 17, anchor: "middle" }));
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="course-static-plot" viewBox="0 0 ${width} ${height}" ` +
    `width="${width}" height="${height}" style="${autoWidth ? "width:100%" : "max-width:100%"};height:auto" font-family="Open Sans, verdana, arial, sans-serif" ` +
    `font-size="12" role="img" aria-label="${escapeXml(title ?? "plot")}">` +
    `<rect width="${width}" height="${height}" fill="white"/>${parts.join("")}</svg>`
  );
}

/** Where an axis sits on the picture, before its values are known. */
interface Frame {
  span: [number, number];
  edge: number;
  across: [number, number];
  reversed: boolean;
  layout: AxisLayout;
}

function buildAxis(id: string, horizontal: boolean, layout: Record<string, unknown>, traces: Trace[], plot: Box): Axis {
  const axisLayout = (layout[`${horizontal ? "xaxis" : "yaxis"}${id.slice(1)}`] ?? {}) as AxisLayout;
  const mine = traces.filter((t) => (horizontal ? t.xaxis ?? "x" : t.yaxis ?? "y") === id);
  const values = mine.flatMap((t) => Array.from((horizontal ? t.x : t.y) ?? defaultPositions(t, horizontal)));
  const frame = axisFrame(axisLayout, horizontal, layout, plot);
  const type = axisLayout.type ?? (values.some((v) => typeof v === "string") ? "category" : "linear");
  return type === "category" ? categoryAxis(frame, values) : numericAxis(frame, values, mine, horizontal, type === "log");
}

function axisFrame(axisLayout: AxisLayout, horizontal: boolean, layout: Record<string, unknown>, plot: Box): Frame {
  const [d0, d1] = axisLayout.domain ?? [0, 1];
  const width = plot.right - plot.left;
  const height = plot.bottom - plot.top;
  if (horizontal) {
    return {
      span: [plot.left + d0 * width, plot.left + d1 * width],
      edge: axisLayout.side === "top" ? plot.top : plot.bottom,
      across: [plot.top, plot.bottom],
      reversed: axisLayout.autorange === "reversed",
      layout: axisLayout,
    };
  }
  // A y axis stands at the left of the x axis it is anchored to (sideBySide's y2 on x2).
  const anchor = (layout[`xaxis${(axisLayout.anchor ?? "x").slice(1)}`] ?? {}) as AxisLayout;
  const [a0, a1] = anchor.domain ?? [0, 1];
  return {
    span: [plot.bottom - d0 * height, plot.bottom - d1 * height],
    edge: plot.left + a0 * width,
    across: [plot.left + a0 * width, plot.left + a1 * width],
    reversed: axisLayout.autorange === "reversed",
    layout: axisLayout,
  };
}

/** value in [low, high] → pixel along the frame's span. */
function scaler(frame: Frame, low: number, high: number): (v: number) => number {
  const [start, end] = frame.span;
  return (v) => {
    const f = high > low ? (v - low) / (high - low) : 0.5;
    return start + (frame.reversed ? 1 - f : f) * (end - start);
  };
}

/** One slot per distinct label, in first-seen order; every label written if they fit, else every k-th. */
function categoryAxis(frame: Frame, values: Value[]): Axis {
  const categories = [...new Set(values.filter((v) => v != null).map(String))];
  const index = new Map(categories.map((c, i) => [c, i]));
  const at = scaler(frame, -0.5, categories.length - 0.5);
  const length = Math.abs(frame.span[1] - frame.span[0]);
  const every = Math.max(1, Math.ceil((categories.length * 14) / Math.max(length, 1)));
  return {
    ...frame,
    pixel: (v) => (v == null || !index.has(String(v)) ? null : at(index.get(String(v))!)),
    band: length / Math.max(categories.length, 1),
    ticks: categories.filter((_, i) => i % every === 0).map((c) => ({ at: at(index.get(c)!), label: c })),
    grid: false,
  };
}

/**
 * A linear or log axis over the traces' values: heatmap cells reach half a step past the first and
 * last value; lines span x exactly; y (and markers) get 5% of room either side; bars start at zero.
 */
function numericAxis(frame: Frame, values: Value[], traces: Trace[], horizontal: boolean, log: boolean): Axis {
  const numbers = values.map(Number).filter((v) => Number.isFinite(v) && (!log || v > 0));
  const cells = traces.some((t) => t.type === "heatmap") ? 0.5 : 0;
  let [low, high] = numbers.length ? extent(numbers) : [0, 1];
  [low, high] = [low - cells, high + cells];
  if (traces.some((t) => t.type === "bar") && !horizontal) low = Math.min(low, 0);
  if (log) [low, high] = [Math.log10(low), Math.log10(high)];
  const exact = cells > 0 || (horizontal && !traces.some((t) => t.mode?.includes("markers")));
  const pad = exact ? 0 : 0.05 * (high - low || 1);
  [low, high] = high === low ? [low - 1, high + 1] : [low - pad, high + pad];
  const at = scaler(frame, low, high);
  const toPixel = (v: number) => at(log ? Math.log10(v) : v);
  const { tickvals, ticktext } = frame.layout;
  const ticks = tickvals
    ? tickvals.map((v, i) => ({ at: toPixel(v), label: ticktext?.[i] ?? formatNumber(v, 1) }))
    : (log ? logTicks(low, high) : niceTicks(low, high, Math.abs(frame.span[1] - frame.span[0]))).map((t) => ({ at: toPixel(t.value), label: t.label }));
  const first = numbers.length ? extent(numbers)[0] : 0;
  const step = smallestGap(numbers);
  return {
    ...frame,
    pixel: (v) => {
      const n = Number(v);
      return v == null || !Number.isFinite(n) || (log && n <= 0) ? null : toPixel(n);
    },
    band: Math.abs(toPixel(first) - toPixel(first + step)),
    ticks: ticks.filter((t) => Number.isFinite(t.at)),
    grid: frame.layout.showgrid !== false,
  };
}

/** [min, max] without spreading (a long loss curve would overflow the argument list). */
function extent(values: number[]): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (const v of values) {
    if (v < low) low = v;
    if (v > high) high = v;
  }
  return [low, high];
}

/** The gap between the two smallest distinct values (a heatmap's cell width); 1 with fewer than two. */
function smallestGap(values: number[]): number {
  const [low] = extent(values);
  let next = Infinity;
  for (const v of values) if (v > low && v < next) next = v;
  return Number.isFinite(next) ? next - low : 1;
}

/** Positions a trace without x (or y) values takes: 0..n-1, as plotly does. */
function defaultPositions(trace: Trace, horizontal: boolean): number[] {
  if (trace.type === "heatmap") {
    const rows = trace.z?.length ?? 0;
    return range(horizontal ? (rows ? trace.z![0].length : 0) : rows);
  }
  return range((horizontal ? trace.y : trace.x)?.length ?? 0);
}

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function drawTrace(trace: Trace, x: Axis, y: Axis, colour: string): string {
  if (trace.type === "heatmap") return heatmapCells(trace, x, y);
  const xs = Array.from(trace.x ?? range(trace.y?.length ?? 0));
  const ys = Array.from(trace.y ?? range(xs.length));
  const opacity = trace.opacity !== undefined ? ` opacity="${trace.opacity}"` : "";
  if (trace.type === "bar") {
    const fill = trace.marker?.color ?? colour;
    const width = x.band * 0.8;
    const zero = y.pixel(0) ?? y.span[0];
    return `<g${opacity}>${xs
      .map((xv, i) => {
        const px = x.pixel(xv);
        const py = y.pixel(ys[i]);
        if (px === null || py === null) return "";
        return rect(px - width / 2, Math.min(py, zero), width, Math.abs(zero - py), fill);
      })
      .join("")}</g>`;
  }
  const stroke = trace.line?.color ?? trace.marker?.color ?? colour;
  const mode = trace.mode ?? (xs.length < 20 ? "lines+markers" : "lines");
  // More points than a picture can show (a long training run's loss per step) are thinned to every k-th.
  const every = Math.ceil(xs.length / MAX_POINTS);
  const points = xs.flatMap((xv, i) => (i % every === 0 || i === xs.length - 1 ? [[x.pixel(xv), y.pixel(ys[i])] as const] : []));
  let out = "";
  if (mode.includes("lines")) {
    let path = "";
    let pen = "M";
    for (const [px, py] of points) {
      if (px === null || py === null) {
        pen = "M";
        continue;
      }
      path += `${pen}${num(px)},${num(py)}`;
      pen = "L";
    }
    const dash = DASHES[trace.line?.dash ?? ""];
    out += `<path d="${path}" fill="none" stroke="${stroke}" stroke-width="${trace.line?.width ?? 2}"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`;
  }
  if (mode.includes("markers")) {
    const r = (trace.marker?.size ?? 6) / 2;
    for (const [px, py] of points) if (px !== null && py !== null) out += `<circle cx="${num(px)}" cy="${num(py)}" r="${r}" fill="${stroke}"/>`;
  }
  return `<g${opacity}>${out}</g>`;
}

function heatmapCells(trace: Trace, x: Axis, y: Axis): string {
  const z = Array.from(trace.z ?? [], (row) => Array.from(row, (v) => (v == null ? NaN : Number(v))));
  const finite = z.flat().filter(Number.isFinite);
  const [low, high] = [trace.zmin ?? extent(finite)[0], trace.zmax ?? extent(finite)[1]];
  const stops = colourStops(trace.colorscale);
  const xs = Array.from(trace.x ?? range(z[0]?.length ?? 0));
  const ys = Array.from(trace.y ?? range(z.length));
  const size = trace.textfont?.size ?? 12;
  const fallbackColour = trace.textfont?.color && trace.textfont.color !== "auto" ? trace.textfont.color : "black";
  let cells = "";
  // Cell text grouped by colour: one <g> carries the shared attributes, each <text> only x, y and the words.
  const labels = new Map<string, string>();
  z.forEach((row, i) =>
    row.forEach((v, j) => {
      const cx = x.pixel(xs[j]);
      const cy = y.pixel(ys[i]);
      if (cx === null || cy === null || !Number.isFinite(v)) return;
      const t = high > low ? Math.min(1, Math.max(0, (v - low) / (high - low))) : 0;
      cells += rect(cx - x.band / 2, cy - y.band / 2, x.band, y.band, hex(colourAt(stops, t)));
      const markup = trace.text?.[i]?.[j];
      if (!markup) return;
      const lines = markup.split(/<br\s*\/?>/i);
      const top = cy - ((lines.length - 1) * size * 1.15) / 2;
      lines.forEach((line, k) => {
        const colour = /color:\s*([^;"']+)/i.exec(line)?.[1]?.trim() ?? fallbackColour;
        const words = escapeXml(decodeEntities(line.replace(/<[^>]*>/g, "")));
        labels.set(colour, (labels.get(colour) ?? "") + `<text x="${num(cx)}" y="${num(top + k * size * 1.15)}">${words}</text>`);
      });
    }),
  );
  const groups = [...labels].map(([colour, texts]) => `<g fill="${escapeXml(colour)}">${texts}</g>`).join("");
  return `<g>${cells}</g><g font-size="${size}" text-anchor="middle" dominant-baseline="central">${groups}</g>`;
}

function gridLines(axis: Axis, horizontal: boolean): string {
  if (!axis.grid) return "";
  const [a, b] = axis.across;
  const lines = axis.ticks.map((t) => (horizontal ? `M${num(t.at)},${num(a)}V${num(b)}` : `M${num(a)},${num(t.at)}H${num(b)}`));
  return `<path d="${lines.join("")}" stroke="#eee" stroke-width="1" fill="none"/>`;
}

function drawAxis(axis: Axis, horizontal: boolean): string {
  const size = axis.layout.tickfont?.size ?? 12;
  const title = titleText(axis.layout.title);
  const middle = (axis.span[0] + axis.span[1]) / 2;
  let out = "";
  if (horizontal) {
    const top = axis.layout.side === "top";
    for (const tick of axis.ticks) out += text(tick.at, top ? axis.edge - 6 : axis.edge + size + 4, tick.label, { size, anchor: "middle" });
    if (title) out += text(middle, top ? axis.edge - size - 16 : axis.edge + size + 26, title, { size: 14, anchor: "middle" });
    return `<g fill="#444">${out}</g>`;
  }
  for (const tick of axis.ticks) out += text(axis.edge - 6, tick.at, tick.label, { size, anchor: "end", middle: true });
  if (title) {
    const x = num(axis.edge - 52);
    out += `<text x="${x}" y="${num(middle)}" font-size="14" text-anchor="middle" transform="rotate(-90 ${x} ${num(middle)})">${escapeXml(title)}</text>`;
  }
  return `<g fill="#444">${out}</g>`;
}

function colourBar(trace: Trace, plot: Box): string {
  const stops = colourStops(trace.colorscale);
  const z = Array.from(trace.z ?? [], (row) => Array.from(row, Number)).flat().filter(Number.isFinite);
  const [low, high] = [trace.zmin ?? extent(z)[0], trace.zmax ?? extent(z)[1]];
  const x = plot.right + 14;
  const gradient = stops.map(([at, c]) => `<stop offset="${at}" stop-color="${c}"/>`).join("");
  const id = `bar${Math.floor(Math.random() * 1e9).toString(36)}`;
  return (
    `<defs><linearGradient id="${id}" x1="0" y1="1" x2="0" y2="0">${gradient}</linearGradient></defs>` +
    `<rect x="${num(x)}" y="${num(plot.top)}" width="14" height="${num(plot.bottom - plot.top)}" fill="url(#${id})" stroke="#ccc"/>` +
    text(x + 18, plot.bottom, formatNumber(low, high - low), { size: 11, middle: true }) +
    text(x + 18, plot.top, formatNumber(high, high - low), { size: 11, middle: true })
  );
}

interface LegendEntry {
  name: string;
  colour: string;
  bar: boolean;
  dash?: string;
}

function legendEntries(traces: Trace[], layout: Record<string, unknown>): LegendEntry[] {
  const entries = traces
    .map((t, i) => ({ t, colour: t.line?.color ?? t.marker?.color ?? COLOURS[i % COLOURS.length] }))
    .filter(({ t }) => t.name && t.showlegend !== false && t.type !== "heatmap")
    .map(({ t, colour }) => ({ name: t.name!, colour, bar: t.type === "bar", dash: DASHES[t.line?.dash ?? ""] }));
  const show = layout.showlegend === true || (layout.showlegend === undefined && entries.length > 1);
  return show ? entries : [];
}

/** The legend to the right of the plot area, as plotly places it. */
function legend(entries: LegendEntry[], plot: Box): string {
  const x = plot.right + 12;
  return `<g>${entries
    .map((entry, k) => {
      const y = plot.top + 10 + k * 20;
      const swatch = entry.bar
        ? rect(x, y - 5, 18, 10, entry.colour)
        : `<path d="M${num(x)},${num(y)}h18" stroke="${entry.colour}" stroke-width="2"${entry.dash ? ` stroke-dasharray="4,3"` : ""}/>`;
      return swatch + text(x + 24, y, entry.name, { size: 12, middle: true });
    })
    .join("")}</g>`;
}

function annotation(note: Annotation, plot: Box, axes: Map<string, Axis>): string {
  if (!note.text) return "";
  const px = note.xref && note.xref !== "paper" ? axes.get(note.xref)?.pixel(note.x) : null;
  const py = note.yref && note.yref !== "paper" ? axes.get(note.yref)?.pixel(note.y) : null;
  const x = px ?? plot.left + (note.x ?? 0.5) * (plot.right - plot.left);
  const y = py ?? plot.bottom - (note.y ?? 0.5) * (plot.bottom - plot.top);
  const size = note.font?.size ?? 12;
  const anchor = note.xanchor === "left" ? "start" : note.xanchor === "right" ? "end" : "middle";
  const baseline = note.yanchor === "bottom" ? y - 3 : note.yanchor === "top" ? y + size : y;
  return text(x, baseline, decodeEntities(note.text.replace(/<[^>]*>/g, " ")), {
    size,
    anchor,
    fill: note.font?.color,
    middle: note.yanchor !== "bottom" && note.yanchor !== "top",
  });
}

function colourStops(scale: Trace["colorscale"]): Stops {
  if (Array.isArray(scale) && scale.length >= 2) return scale;
  const colours = NAMED_SCALES[typeof scale === "string" ? scale : "RdBu"] ?? NAMED_SCALES.Viridis;
  return colours.map((c, i) => [i / (colours.length - 1), c]);
}

/** About `pixels / 70` (at least 4) round-numbered ticks (steps of 1, 2 or 5 × 10^k) between low and high. */
function niceTicks(low: number, high: number, pixels: number): { value: number; label: string }[] {
  const rough = (high - low) / Math.max(4, Math.floor(pixels / 70));
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) {
    ticks.push({ value: v, label: formatNumber(v, step) });
  }
  return ticks;
}

/** Ticks at m × 10^k for a log axis spanning 10^low..10^high: m = 1..9 within a decade, 1, 2, 5 over a few, 1 over many. */
function logTicks(low: number, high: number): { value: number; label: string }[] {
  const multiples = high - low > 3 ? [1] : high - low > 1 ? [1, 2, 5] : [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const ticks = [];
  for (let k = Math.floor(low); k <= Math.ceil(high); k++) {
    for (const m of multiples) {
      const value = m * 10 ** k;
      const at = Math.log10(value);
      if (at >= low - 1e-9 && at <= high + 1e-9) ticks.push({ value, label: formatNumber(value, value) });
    }
  }
  return ticks;
}

/** A tick number with as many decimals as the step between ticks needs. */
function formatNumber(value: number, step: number): string {
  if (!Number.isFinite(value)) return String(value);
  const decimals = Math.min(6, Math.max(0, -Math.floor(Math.log10(Math.abs(step) || 1) + 1e-9)));
  return value.toFixed(decimals).replace(/^-(0\.?0*)$/, "$1");
}

function titleText(title: AxisLayout["title"]): string | null {
  const raw = typeof title === "string" ? title : title?.text;
  return raw ? decodeEntities(raw.replace(/<br\s*\/?>/gi, " ").replace(/<[^>]*>/g, "")).trim() || null : null;
}

function text(x: number, y: number, content: string, style: { size: number; anchor?: string; fill?: string; middle?: boolean }): string {
  const anchor = style.anchor && style.anchor !== "start" ? ` text-anchor="${style.anchor}"` : "";
  const fill = style.fill ? ` fill="${escapeXml(style.fill)}"` : "";
  const middle = style.middle ? ` dominant-baseline="central"` : "";
  return `<text x="${num(x)}" y="${num(y)}" font-size="${style.size}"${anchor}${fill}${middle}>${escapeXml(content)}</text>`;
}

function rect(x: number, y: number, width: number, height: number, fill: string): string {
  return `<rect x="${num(x)}" y="${num(y)}" width="${num(width)}" height="${num(height)}" fill="${fill}"/>`;
}

function hex(rgb: [number, number, number]): string {
  return "#" + rgb.map((c) => Math.round(Math.min(255, Math.max(0, c))).toString(16).padStart(2, "0")).join("");
}

/** Pixels to one decimal: enough for a picture, a third of the bytes of full precision. */
function num(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function decodeEntities(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
