/**
 * A plotly figure as one Jupyter output that every front end can draw:
 *  - application/vnd.plotly.v1+json: JupyterLab (with its plotly renderer) and VS Code draw it natively;
 *  - text/html: a div and a script that loads plotly.js from its CDN once per page (one shared
 *    <script> tag, guarded by its id) and draws the figure: the classic Notebook and nbconvert's
 *    HTML export use this. plotly.js 3 never calls require.js's define() (its bundle only sets
 *    window.Plotly), so a plain script tag is safe on pages that have require.js too;
 *  - text/plain: a one-line summary for consoles and for nbconvert --to markdown/text.
 * plotly.js (~4 MB) itself is never embedded in the notebook.
 */
import { randomId, type MimeBundle } from "./kernel.js";

export interface Figure {
  data: object[];
  layout?: object;
  config?: object;
}

/** The plotly.js the HTML output loads; kept equal to node_modules/plotly.js-dist (a test checks). */
export const PLOTLY_VERSION = "3.7.0";
export const PLOTLY_CDN_URL = `https://cdn.plot.ly/plotly-${PLOTLY_VERSION}.min.js`;
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

export function plotlyBundle(figure: Figure, divId = `plot-${randomId()}`): MimeBundle {
  const spec = { data: figure.data, layout: figure.layout ?? {}, config: figure.config ?? {} };
  return {
    [PLOTLY_MIME]: spec,
    "text/html": plotlyHtml(spec, divId),
    "text/plain": plotSummary(figure),
  };
}

/** JSON that can sit inside <script>: no "</script>", no characters that end a JS line. */
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function plotlyHtml(spec: Required<Figure>, divId: string): string {
  const height = (spec.layout as { height?: number }).height ?? 450;
  return `<div id="${divId}" class="plotly-graph-div" style="height:${height}px; width:100%;"></div>
<script type="text/javascript">
(function () {
  var figure = ${scriptSafeJson(spec)};
  var url = "${PLOTLY_CDN_URL}";
  var div = document.getElementById("${divId}");
  function draw(Plotly) {
    var config = Object.assign({ responsive: true }, figure.config);
    Plotly.newPlot(div, figure.data, figure.layout, config);
  }
  function failed() {
    div.style.height = "auto";
    div.textContent = "(plot not drawn: plotly.js could not be loaded from " + url + ")";
  }
  if (window.Plotly) return draw(window.Plotly);
  var script = document.getElementById("plotly-cdn-script");
  if (!script) {
    script = document.createElement("script");
    script.id = "plotly-cdn-script";
    script.src = url;
    script.charset = "utf-8";
    document.head.appendChild(script);
  }
  if (script.getAttribute("data-failed")) return failed();
  script.addEventListener("load", function () { draw(window.Plotly); });
  script.addEventListener("error", function () { script.setAttribute("data-failed", "1"); failed(); });
})();
</script>`;
}

interface TraceLike {
  type?: string;
  name?: string;
  x?: ArrayLike<unknown>;
  y?: ArrayLike<unknown>;
  z?: ArrayLike<ArrayLike<unknown>>;
}

/** One line describing a figure, e.g. `[plot] Loss: scatter "train" (100 points), scatter "val" (10 points)`. */
export function plotSummary(figure: Figure): string {
  const title = figureTitle(figure);
  const traces = (figure.data as TraceLike[]).map(describeTrace);
  return `[plot]${title ? ` ${title}:` : ""} ${traces.length ? traces.join(", ") : "no traces"}`;
}

function figureTitle(figure: Figure): string | null {
  const title = (figure.layout as { title?: string | { text?: string } } | undefined)?.title;
  const text = typeof title === "string" ? title : title?.text;
  return text ? text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim() : null;
}

function describeTrace(trace: TraceLike): string {
  const type = trace.type ?? "scatter";
  const name = trace.name ? ` "${trace.name}"` : "";
  if (trace.z) {
    const rows = trace.z.length;
    const columns = rows ? trace.z[0].length : 0;
    return `${type}${name} (${rows}×${columns})`;
  }
  const points = trace.y?.length ?? trace.x?.length ?? 0;
  return `${type}${name} (${points} points)`;
}
