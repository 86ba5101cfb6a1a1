/**
 * Pictures of what a transformer does, as figures for lib/display (so they draw offline and
 * have a static SVG) or self-contained HTML: attention patterns per head, a CircuitsVis-style
 * interactive head view, token-coloured values, probe accuracies, patching heatmaps, logit
 * attribution bars and the residual stream by layer. Inputs are plain arrays (e.g. from
 * `await tensor.array()`), so any cache or experiment can feed them.
 */
import { BLUES, colourAt, contrastingTextColour, heatmap, lineChart, sideBySide } from "../display/figures.js";
import { randomId, type MimeBundle } from "../display/kernel.js";
import type { Figure } from "../display/plotly.js";
import { showBundle } from "../display/show.js";
import { escapeHtml } from "../display/table.js";

/** Blue for negative, white at 0, red for positive (as TransformerLens's imshow with RdBu and zmid 0). */
export const RED_BLUE: [number, string][] = [
  [0, "#2166ac"],
  [0.25, "#92c5de"],
  [0.5, "#f7f7f7"],
  [0.75, "#f4a582"],
  [1, "#b2182b"],
];

/** A token as a label that stays visible: spaces and newlines spelled out, duplicates told apart by position. */
export function tokenLabels(tokens: readonly string[]): string[] {
  return tokens.map((t, i) => `${t.replace(/ /g, "·").replace(/\n/g, "↵") || "∅"} (${i})`);
}

function checkSquare(pattern: number[][], tokens: readonly string[], what: string): void {
  if (pattern.length !== tokens.length || pattern.some((row) => row.length !== tokens.length)) {
    throw new RangeError(`${what}: each pattern must be ${tokens.length} × ${tokens.length} (query × key, one per token), got ${pattern.length} × ${pattern[0]?.length ?? 0}`);
  }
}

/**
 * One heatmap per head (query rows, key columns, weights 0..1), side by side with shared token
 * labels: patterns is (head, query, key), e.g. `(await cache["blocks.0.attn.hook_pattern"].array())[0]`.
 */
export function attentionPatterns(patterns: number[][][], tokens: readonly string[], options: { title?: string; headNames?: string[]; height?: number } = {}): Figure {
  patterns.forEach((p) => checkSquare(p, tokens, "attentionPatterns"));
  const labels = tokenLabels(tokens);
  const figures = patterns.map((pattern, h) =>
    heatmap(pattern, { x: labels, y: labels, zmin: 0, zmax: 1, title: options.headNames?.[h] ?? `head ${h}`, showScale: h === patterns.length - 1 }),
  );
  for (const f of figures) for (const trace of f.data as Record<string, unknown>[]) trace.hovertemplate = "query %{y} → key %{x}: %{z:.3f}<extra></extra>";
  return sideBySide(figures, { title: options.title, height: options.height ?? 380, gap: 0.04 });
}

/** JSON that can sit inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/**
 * CircuitsVis's attention_heads, self-contained: a button per head and the tokens; hover (or
 * click, to pin) a token to shade every token by how much it attends there from the hovered
 * one. Plain HTML and inline JavaScript, no library, so it works in an exported HTML file offline.
 */
export function attentionHeadsHtml(patterns: number[][][], tokens: readonly string[], options: { title?: string; headNames?: string[] } = {}): string {
  patterns.forEach((p) => checkSquare(p, tokens, "attentionHeadsHtml"));
  const id = `attn-${randomId()}`;
  const names = patterns.map((_, h) => options.headNames?.[h] ?? `head ${h}`);
  const rounded = patterns.map((p) => p.map((row) => row.map((v) => Math.round(v * 1e4) / 1e4)));
  const buttons = names.map((n, h) => `<button type="button" data-head="${h}" style="margin:2px;cursor:pointer">${escapeHtml(n)}</button>`).join("");
  const spans = tokens
    .map((t, i) => `<span data-pos="${i}" style="display:inline-block;padding:2px 4px;margin:1px;border:1px solid #ddd;border-radius:3px;font-family:monospace;cursor:pointer;white-space:pre">${escapeHtml(t.replace(/\n/g, "↵"))}</span>`)
    .join("");
  return `<div id="${id}" class="course-attention-heads" style="font-size:14px">
${options.title ? `<div style="font-weight:bold;margin-bottom:4px">${escapeHtml(options.title)}</div>` : ""}<div class="heads">${buttons}</div>
<div class="tokens" style="margin-top:6px">${spans}</div>
<div class="info" style="font-size:12px;color:#555;margin-top:4px">Hover a token to see where it attends (click to pin).</div>
<script type="text/javascript">
(function () {
  var patterns = ${scriptJson(rounded)}, names = ${scriptJson(names)};
  var root = document.getElementById("${id}");
  if (!root) return;
  var spans = root.querySelectorAll(".tokens span"), buttons = root.querySelectorAll(".heads button");
  var info = root.querySelector(".info");
  var head = 0, pinned = null;
  function shade(query) {
    for (var j = 0; j < spans.length; j++) {
      var w = query === null || j > query ? 0 : patterns[head][query][j];
      spans[j].style.background = "rgba(33,113,181," + w + ")";
      spans[j].setAttribute("data-weight", String(w));
      spans[j].style.color = w > 0.5 ? "white" : "black";
      spans[j].style.outline = j === query ? "2px solid #d62728" : "none";
      spans[j].title = query === null ? "" : (w * 100).toFixed(1) + "% of " + names[head] + "'s attention from token " + query;
    }
    for (var h = 0; h < buttons.length; h++) buttons[h].style.fontWeight = h === head ? "bold" : "normal";
    root.setAttribute("data-head", String(head));
    root.setAttribute("data-query", query === null ? "" : String(query));
    if (query !== null) info.textContent = names[head] + ": token " + query + " attends most to token " + argmax(patterns[head][query], query) + ".";
  }
  function argmax(row, upTo) { var best = 0; for (var j = 1; j <= upTo; j++) if (row[j] > row[best]) best = j; return best; }
  Array.prototype.forEach.call(spans, function (span, i) {
    span.addEventListener("mouseenter", function () { shade(i); });
    span.addEventListener("mouseleave", function () { shade(pinned); });
    span.addEventListener("click", function () { pinned = pinned === i ? null : i; shade(pinned); });
  });
  Array.prototype.forEach.call(buttons, function (button, h) {
    button.addEventListener("click", function () { head = h; shade(pinned); });
    button.addEventListener("mouseenter", function () { head = h; shade(pinned); });
  });
  pinned = spans.length - 1;
  shade(pinned);
})();
</script>
</div>`;
}

/** The head view in a notebook (its text form elsewhere: one line per head with each token's most-attended key). */
export function showAttentionHeads(patterns: number[][][], tokens: readonly string[], options: { title?: string; headNames?: string[] } = {}): void {
  showBundle(attentionHeadsBundle(patterns, tokens, options));
}

export function attentionHeadsBundle(patterns: number[][][], tokens: readonly string[], options: { title?: string; headNames?: string[] } = {}): MimeBundle {
  const lines = patterns.map((p, h) => `${options.headNames?.[h] ?? `head ${h}`}: ${p.map((row, q) => `${q}→${row.slice(0, q + 1).indexOf(Math.max(...row.slice(0, q + 1)))}`).join(" ")}`);
  return { "text/html": attentionHeadsHtml(patterns, tokens, options), "text/plain": `[attention heads] ${tokens.length} tokens, most-attended key per query\n${lines.join("\n")}` };
}

export interface ColoredTokensOptions {
  /** Colour range (default: the values' min and max). */
  min?: number;
  max?: number;
  colorscale?: [number, string][];
  /** Digits in the hover text. */
  digits?: number;
}

/** CircuitsVis's colored_tokens: each token on a background coloured by its value (hover for the number); nulls stay white. */
export function coloredTokensHtml(tokens: readonly string[], values: readonly (number | null)[], options: ColoredTokensOptions = {}): string {
  if (values.length !== tokens.length) throw new RangeError(`coloredTokens: ${tokens.length} tokens but ${values.length} values`);
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const low = options.min ?? Math.min(...finite);
  const high = options.max ?? Math.max(...finite);
  const scale = options.colorscale ?? BLUES;
  const spans = tokens.map((token, i) => {
    const v = values[i];
    const text = escapeHtml(token.replace(/\n/g, "↵"));
    const base = "display:inline-block;padding:1px 3px;margin:0 1px;font-family:monospace;white-space:pre;border-radius:2px";
    if (v === null || !Number.isFinite(v)) return `<span style="${base}" title="—">${text}</span>`;
    const t = high > low ? Math.min(1, Math.max(0, (v - low) / (high - low))) : 0;
    const rgb = colourAt(scale, t).map(Math.round);
    return `<span style="${base};background:rgb(${rgb.join(",")});color:${contrastingTextColour(rgb as [number, number, number])}" title="${v.toFixed(options.digits ?? 3)}">${text}</span>`;
  });
  return `<div class="course-colored-tokens" style="line-height:1.8">${spans.join("")}</div>`;
}

/** Shows rows of coloured tokens (text form elsewhere: token=value). */
export function showColoredTokens(tokens: readonly string[], values: readonly (number | null)[], options: ColoredTokensOptions = {}): void {
  const plain = tokens.map((t, i) => `${t}=${values[i] === null ? "—" : (values[i] as number).toFixed(options.digits ?? 2)}`).join(" ");
  showBundle({ "text/html": coloredTokensHtml(tokens, values, options), "text/plain": plain });
}

/** Probe accuracy as a heatmap: rows are layers (e.g. "resid_post 0"), columns the targets (e.g. "1st sorted"). */
export function probeHeatmap(accuracy: number[][], layers: string[], targets: string[], options: { title?: string } = {}): Figure {
  const text = accuracy.map((row) => row.map((v) => `${(100 * v).toFixed(0)}%`));
  return heatmap(accuracy, { x: targets, y: layers, zmin: 0, zmax: 1, text, textSize: 12, title: options.title ?? "Probe accuracy (held out)", height: 120 + 40 * layers.length });
}

/** The same accuracies as lines: one per target, across layers. */
export function probeLines(accuracy: number[][], layers: string[], targets: string[], options: { title?: string } = {}): Figure {
  const figure = lineChart(null, targets.map((name, k) => ({ name, ys: accuracy.map((row) => row[k]) })), {
    title: options.title ?? "Probe accuracy by layer",
    xTitle: "layer",
    yTitle: "accuracy",
    markers: true,
  });
  (figure.layout as Record<string, unknown>).xaxis = { title: { text: "layer" }, tickvals: layers.map((_, i) => i), ticktext: layers };
  return figure;
}

/** A patching result (rows × columns, e.g. layer × position) on a red–blue scale centred on 0, values written in. */
export function patchingHeatmap(values: number[][], rows: string[], columns: string[], options: { title?: string; digits?: number } = {}): Figure {
  const bound = Math.max(1e-9, ...values.flat().map(Math.abs));
  const text = values.map((row) => row.map((v) => v.toFixed(options.digits ?? 2)));
  return heatmap(values, { x: columns, y: rows, zmin: -bound, zmax: bound, colorscale: RED_BLUE, text, textSize: 11, title: options.title ?? "Activation patching", height: 140 + 40 * rows.length });
}

/** Bars of each component's contribution (e.g. direct logit attribution per head and MLP). */
export function attributionBars(labels: string[], values: number[], options: { title?: string; yTitle?: string } = {}): Figure {
  if (labels.length !== values.length) throw new RangeError(`attributionBars: ${labels.length} labels but ${values.length} values`);
  return {
    data: [{ type: "bar", x: labels, y: values, marker: { color: values.map((v) => (v >= 0 ? "#b2182b" : "#2166ac")) }, hovertemplate: "%{x}: %{y:.3f}<extra></extra>" }],
    layout: { title: { text: options.title ?? "Direct logit attribution" }, height: 380, xaxis: { type: "category" }, yaxis: { title: { text: options.yTitle ?? "logit difference" } } },
  };
}

/**
 * The residual stream by layer: the accumulated value (line, e.g. the logit difference read off
 * each resid_pre) and, with `differences`, the per-layer change as bars.
 */
export function residualPlot(labels: string[], accumulated: number[], options: { title?: string; yTitle?: string } = {}): Figure {
  if (labels.length !== accumulated.length) throw new RangeError(`residualPlot: ${labels.length} labels but ${accumulated.length} values`);
  return {
    data: [{ type: "scatter", mode: "lines+markers", name: "accumulated", x: labels, y: accumulated }],
    layout: { title: { text: options.title ?? "Residual stream, accumulated" }, height: 380, xaxis: { type: "category" }, yaxis: { title: { text: options.yTitle ?? "logit difference" } } },
  };
}

/** Successive differences of an accumulated series: what each layer (component) added. */
export function layerDifferences(accumulated: number[]): number[] {
  return accumulated.slice(1).map((v, i) => v - accumulated[i]);
}
