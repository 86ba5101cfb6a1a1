/**
 * A plotly figure as one Jupyter output that every front end can show:
 *  - application/vnd.plotly.v1+json: JupyterLab (with its plotly renderer) and VS Code draw it natively;
 *  - text/html: a div holding a static SVG of the figure (./svg.ts) and a script that replaces it
 *    with the interactive plotly.js figure. The classic Notebook, nbconvert's HTML export, nbviewer
 *    and GitHub's viewer all pick text/html over image/svg+xml, so the picture lives inside the
 *    HTML (no separate SVG entry, which would double the notebook's size and be shown by none of
 *    them): where no script runs, the SVG is what the reader sees;
 *  - text/plain: a one-line summary for consoles and for nbconvert --to markdown/text.
 * plotly.js (11 MB) is never embedded in the notebook and never fetched from a CDN. The script uses
 * a `window.Plotly` already on the page (the course's HTML exports load one copy beside them, see
 * scripts/run_notebooks.py), else, inside Jupyter, loads it once per page from the server that runs
 * the notebook: `npm start` serves the repository root, so it is at
 * <base url>files/node_modules/plotly.js-dist/plotly.js. plotly.js 3 never calls require.js's
 * define() (its bundle only sets window.Plotly), so a plain script tag is safe next to require.js.
 */
import { randomId, type MimeBundle } from "./kernel.js";
import { figureSvg } from "./svg.js";

export { figureSvg } from "./svg.js";

export interface Figure {
  data: object[];
  layout?: object;
  config?: object;
}

/** The installed plotly.js-dist, which the HTML output loads (a test checks the two agree). */
export const PLOTLY_VERSION = "3.7.0";
/** Where plotly.js is, relative to the repository root (= the Jupyter server's root). */
export const PLOTLY_PATH = "node_modules/plotly.js-dist/plotly.js";
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";
/** The id of the one <script> that loads plotly.js into a Jupyter page. */
export const PLOTLY_SCRIPT_ID = "course-plotly-js";

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
  return `<div id="${divId}" class="plotly-graph-div course-plot" style="width:100%;">${figureSvg(spec)}</div>
<script type="text/javascript">
(function () {
  var figure = ${scriptSafeJson(spec)};
  var div = document.getElementById("${divId}");
  if (!div) return;
  function draw() {
    div.innerHTML = "";
    div.style.height = "${height}px";
    window.Plotly.newPlot(div, figure.data, figure.layout, Object.assign({ responsive: true }, figure.config));
  }
  function note(text) {
    var p = document.createElement("p");
    p.style.cssText = "font-size:smaller;color:gray;margin:0";
    p.textContent = text;
    div.appendChild(p);
  }
  if (window.Plotly) return draw();
  var base = jupyterBaseUrl();
  if (base === null) return; // not a Jupyter page and no plotly.js on it: the static SVG stays
  var script = document.getElementById("${PLOTLY_SCRIPT_ID}");
  if (!script) {
    script = document.createElement("script");
    script.id = "${PLOTLY_SCRIPT_ID}";
    script.src = base + "files/${PLOTLY_PATH}";
    script.charset = "utf-8";
    script.onerror = function () { script.setAttribute("data-failed", "1"); };
    document.head.appendChild(script);
  }
  var failed = "static picture: plotly.js was not found at " + script.src + " (is the Jupyter server's root the course's folder?)";
  if (script.getAttribute("data-failed")) return note(failed);
  script.addEventListener("load", draw);
  script.addEventListener("error", function () { note(failed); });
  function jupyterBaseUrl() {
    var body = document.body;
    if (body && body.getAttribute("data-base-url") !== null) return body.getAttribute("data-base-url");
    var config = document.getElementById("jupyter-config-data"); // JupyterLab, Notebook 7
    try { return config ? JSON.parse(config.textContent).baseUrl : null; } catch (e) { return null; }
  }
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
