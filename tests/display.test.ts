import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import vm from "node:vm";
import pl from "nodejs-polars";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  BLUES,
  heatmap,
  imageSummary,
  inNotebook,
  lineChart,
  liveDisplay,
  PLOTLY_CDN_URL,
  PLOTLY_MIME,
  PLOTLY_VERSION,
  plotlyBundle,
  plotSummary,
  showHtml,
  showMarkdown,
  showPlot,
  showTable,
  sideBySide,
  tableToHtml,
  tableToText,
  type Figure,
} from "../lib/display/index.js";

const figure: Figure = {
  data: [{ type: "scatter", name: "train", x: [0, 1, 2], y: [3.1, 2.7, 2.5] }],
  layout: { title: { text: "Loss" }, height: 300 },
};

const requireHere = createRequire(process.cwd() + "/");
const tslabLoaded = () => Object.keys(requireHere.cache).some((path) => path.includes("/tslab/dist/"));

afterEach(() => vi.restoreAllMocks());

describe("outside a notebook", () => {
  it("is not a notebook, and asking does not load tslab", () => {
    expect(inNotebook()).toBe(false);
    showPlot(figure);
    expect(tslabLoaded()).toBe(false);
  });

  it("prints short text forms", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    showPlot(figure);
    showTable([{ name: "emma", count: 3 }]);
    showMarkdown("**bold**");
    showHtml("<b>nothing to print</b>");
    expect(log.mock.calls.map((c) => c[0])).toEqual([
      '[plot] Loss: scatter "train" (3 points)',
      "name  count\n----  -----\nemma      3",
      "**bold**",
    ]);
  });

  it("live displays print only their text", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const live = liveDisplay();
    live.plot(figure);
    live.html("<p>x</p>");
    live.text("step 10: loss 2.5");
    expect(log.mock.calls).toEqual([["step 10: loss 2.5"]]);
  });
});

describe("plotlyBundle", () => {
  it("carries the plotly JSON, an HTML fallback and a text summary in one bundle", () => {
    const bundle = plotlyBundle(figure, "plot-test");
    expect(Object.keys(bundle).sort()).toEqual([PLOTLY_MIME, "text/html", "text/plain"].sort());
    expect(bundle[PLOTLY_MIME]).toEqual({ data: figure.data, layout: figure.layout, config: {} });
    const html = bundle["text/html"] as string;
    expect(html).toContain('<div id="plot-test"');
    expect(html).toContain(PLOTLY_CDN_URL);
    expect(html).toContain('"y":[3.1,2.7,2.5]');
    expect(html).toContain("height:300px");
    expect(bundle["text/plain"]).toBe('[plot] Loss: scatter "train" (3 points)');
  });

  it("loads the same plotly.js version as the one installed", () => {
    const installed = JSON.parse(readFileSync("node_modules/plotly.js-dist/package.json", "utf8")).version;
    expect(PLOTLY_VERSION).toBe(installed);
    expect(PLOTLY_CDN_URL).toBe(`https://cdn.plot.ly/plotly-${installed}.min.js`);
  });

  it("keeps data that looks like HTML inside its script", () => {
    const html = plotlyBundle({ data: [{ name: "</script><script>alert(1)</script>", y: [1] }] })["text/html"] as string;
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    expect(html).toContain("\\u003c/script>");
  });

  it("loads plotly.js once per page and draws every figure (run in a fake DOM)", () => {
    const page = fakePage();
    const first = plotlyBundle(figure, "plot-a")["text/html"] as string;
    const second = plotlyBundle({ data: [{ type: "bar", y: [1, 2] }] }, "plot-b")["text/html"] as string;
    page.run(first);
    page.run(second);
    expect(page.appended).toHaveLength(1);
    expect(page.appended[0].src).toBe(PLOTLY_CDN_URL);
    expect(page.drawn).toEqual([]);
    page.finishLoading();
    expect(page.drawn.map((d) => d.div)).toEqual(["plot-a", "plot-b"]);
    expect(page.drawn[1].data).toEqual([{ type: "bar", y: [1, 2] }]);
    page.run(plotlyBundle(figure, "plot-c")["text/html"] as string); // plotly.js is there now
    expect(page.appended).toHaveLength(1);
    expect(page.drawn.map((d) => d.div)).toEqual(["plot-a", "plot-b", "plot-c"]);
  });

  it("says so in the output when plotly.js cannot be loaded", () => {
    const page = fakePage();
    page.run(plotlyBundle(figure, "plot-a")["text/html"] as string);
    page.failLoading();
    expect(page.divs.get("plot-a")!.textContent).toMatch(/could not be loaded/);
    page.run(plotlyBundle(figure, "plot-b")["text/html"] as string);
    expect(page.divs.get("plot-b")!.textContent).toMatch(/could not be loaded/);
  });
});

/** Just enough DOM to run the HTML fallback's script. */
function fakePage() {
  type Listener = () => void;
  const divs = new Map<string, { id: string; style: Record<string, string>; textContent: string }>();
  const scripts = new Map<string, FakeScript>();
  const appended: FakeScript[] = [];
  const drawn: { div: string; data: unknown }[] = [];
  class FakeScript {
    id = "";
    src = "";
    charset = "";
    attributes = new Map<string, string>();
    listeners: Record<string, Listener[]> = { load: [], error: [] };
    addEventListener(type: string, fn: Listener) {
      this.listeners[type].push(fn);
    }
    setAttribute(name: string, value: string) {
      this.attributes.set(name, value);
    }
    getAttribute(name: string) {
      return this.attributes.get(name) ?? null;
    }
  }
  const window: Record<string, unknown> = {};
  const document = {
    getElementById: (id: string) => divs.get(id) ?? scripts.get(id) ?? null,
    createElement: () => new FakeScript(),
    head: {
      appendChild: (script: FakeScript) => {
        appended.push(script);
        scripts.set(script.id, script);
      },
    },
  };
  const context = vm.createContext({ window, document, Object });
  const plotly = { newPlot: (div: { id: string }, data: unknown) => drawn.push({ div: div.id, data }) };
  return {
    divs,
    appended,
    drawn,
    run(html: string) {
      const id = /<div id="([^"]+)"/.exec(html)![1];
      divs.set(id, { id, style: {}, textContent: "" });
      const script = /<script type="text\/javascript">([\s\S]*)<\/script>/.exec(html)![1];
      vm.runInContext(script, context);
    },
    finishLoading() {
      window.Plotly = plotly;
      for (const fn of appended[0].listeners.load) fn();
    },
    failLoading() {
      for (const fn of appended[0].listeners.error) fn();
    },
  };
}

describe("plotSummary", () => {
  it("describes each trace", () => {
    expect(plotSummary(heatmap([[1, 2, 3], [4, 5, 6]], { title: "Counts" }))).toBe("[plot] Counts: heatmap (2×3)");
    expect(plotSummary(lineChart([1, 2], [{ name: "a", ys: [1, 2] }, { name: "b", ys: [3, 4] }]))).toBe(
      '[plot] scatter "a" (2 points), scatter "b" (2 points)',
    );
    expect(plotSummary({ data: [] })).toBe("[plot] no traces");
  });
});

describe("tables", () => {
  const rows = [
    { name: "emma", count: 5, p: 0.123456 },
    { name: "olivia", count: 12, p: 1 / 3 },
    { name: "<ava>", count: 7, p: 0.5 },
  ];

  it("aligns text: numbers right, strings left, with a note for hidden rows", () => {
    expect(tableToText(rows, { maxRows: 2 })).toBe(
      ["name    count       p", "------  -----  ------", "emma        5  0.1235", "olivia     12  0.3333", "… 1 more row (3 in all)"].join(
        "\n",
      ),
    );
  });

  it("escapes HTML and limits the rows", () => {
    const html = tableToHtml(rows, { maxRows: 2, digits: 2 });
    expect(html).toContain("<th>name</th><th>count</th><th>p</th>");
    expect(html).toContain("<td>olivia</td><td>12</td><td>0.33</td>");
    expect(html).not.toContain("ava");
    expect(html).toContain("1 more row (3 in all)");
    expect(tableToHtml(rows)).toContain("<td>&lt;ava&gt;</td>");
  });

  it("takes a nodejs-polars DataFrame", () => {
    const df = pl.DataFrame({ name: ["emma", "olivia", "ava"], count: [5, 12, 7] });
    expect(tableToText(df, { maxRows: 2 })).toBe(
      ["name    count", "------  -----", "emma        5", "olivia     12", "… 1 more row (3 in all)"].join("\n"),
    );
    expect(tableToHtml(df)).toContain("<td>ava</td><td>7</td>");
  });
});

describe("figure builders", () => {
  it("heatmap: row 0 on top, text in every cell", () => {
    const fig = heatmap([[1, 2], [3, 4]], { x: ["a", "b"], y: ["c", "d"], text: [["1", "2"], ["3", "4"]] });
    const trace = fig.data[0] as Record<string, unknown>;
    expect(trace).toMatchObject({ type: "heatmap", z: [[1, 2], [3, 4]], x: ["a", "b"], y: ["c", "d"], texttemplate: "%{text}" });
    expect((fig.layout as { yaxis: { autorange: string } }).yaxis.autorange).toBe("reversed");
    expect(trace.colorscale).toEqual(BLUES);
    expect(BLUES[0]).toEqual([0, "#f7fbff"]); // white for zero counts, as in the lecture
    expect(BLUES[8]).toEqual([1, "#08306b"]);
  });

  it("lineChart: shared or per-series xs", () => {
    const fig = lineChart([10, 20, 30], [{ name: "train", ys: Float32Array.from([3, 2, 1]) }, { name: "val", ys: [2.5], xs: [30] }]);
    expect(fig.data).toEqual([
      { type: "scatter", mode: "lines", name: "train", x: [10, 20, 30], y: [3, 2, 1] },
      { type: "scatter", mode: "lines", name: "val", x: [30], y: [2.5] },
    ]);
    expect(lineChart(null, [{ name: "s", ys: [5, 6], dash: "dash" }]).data[0]).toMatchObject({ x: [0, 1], line: { dash: "dash" } });
  });

  it("sideBySide: each figure on its own axes, titles kept", () => {
    const fig = sideBySide([heatmap([[1]], { title: "left" }), heatmap([[2]], { title: "right" })]);
    expect(fig.data.map((t) => [(t as { xaxis: string }).xaxis, (t as { yaxis: string }).yaxis])).toEqual([
      ["x", "y"],
      ["x2", "y2"],
    ]);
    const layout = fig.layout as Record<string, { domain?: number[]; anchor?: string; autorange?: string }> & {
      annotations: { text: string }[];
    };
    expect(layout.xaxis.domain).toEqual([0, 0.47]);
    expect(layout.xaxis2.domain![0]).toBeCloseTo(0.53, 10);
    expect(layout.yaxis2).toMatchObject({ anchor: "x2", autorange: "reversed" });
    expect(layout.annotations.map((a) => a.text)).toEqual(["left", "right"]);
  });
});

describe("imageSummary", () => {
  it("reads a PNG's size from its header", () => {
    const png = new Uint8Array(40);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    new DataView(png.buffer).setUint32(16, 640);
    new DataView(png.buffer).setUint32(20, 480);
    expect(imageSummary(png)).toBe("[image] PNG 640×480, 0.0 kB");
  });
});

/** Runs last: loads tslab and stands in for a kernel by installing tslab's display writer. */
describe("inside a tslab kernel (simulated)", () => {
  it("sends one display_data carrying every MIME type, and live displays update in place", () => {
    const jupyter = requireHere("tslab/dist/jupyter.js") as { lastWriteDisplayData: unknown };
    const messages: { data: Record<string, unknown>; transient: { display_id?: string }; update: boolean }[] = [];
    jupyter.lastWriteDisplayData = (message: { data: Record<string, unknown>; transient: object }, update: boolean) =>
      messages.push({ ...message, update });
    const log = vi.spyOn(console, "log");
    try {
      expect(inNotebook()).toBe(true);
      showPlot(figure);
      expect(messages).toHaveLength(1);
      expect(Object.keys(messages[0].data).sort()).toEqual([PLOTLY_MIME, "text/html", "text/plain"].sort());
      expect(messages[0].update).toBe(false);
      expect(messages[0].transient.display_id).toBeUndefined();

      showTable([{ a: 1 }]);
      expect(Object.keys(messages[1].data).sort()).toEqual(["text/html", "text/plain"]);

      const live = liveDisplay();
      live.text("step 1");
      live.plot(figure);
      const [a, b] = messages.slice(2);
      expect(a.transient.display_id).toMatch(/^[0-9a-f]{16}$/);
      expect(b.transient.display_id).toBe(a.transient.display_id);
      expect([a.update, b.update]).toEqual([false, true]);
      expect(a.data).toEqual({ "text/plain": "step 1" });
      expect(b.data[PLOTLY_MIME]).toBeDefined();
      expect(log).not.toHaveBeenCalled();
    } finally {
      jupyter.lastWriteDisplayData = null;
    }
    expect(inNotebook()).toBe(false);
  });
});
