import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import vm from "node:vm";
import pl from "nodejs-polars";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  BLUES,
  colourAt,
  heatmap,
  imageSummary,
  inNotebook,
  lineChart,
  liveDisplay,
  figureSvg,
  PLOTLY_MIME,
  PLOTLY_PATH,
  PLOTLY_SCRIPT_ID,
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
  it("carries the plotly JSON, an HTML form with a static SVG inside and a text summary in one bundle", () => {
    const bundle = plotlyBundle(figure, "plot-test");
    expect(Object.keys(bundle).sort()).toEqual([PLOTLY_MIME, "text/html", "text/plain"].sort());
    expect(bundle[PLOTLY_MIME]).toEqual({ data: figure.data, layout: figure.layout, config: {} });
    const html = bundle["text/html"] as string;
    expect(html).toMatch(/^<div id="plot-test" class="plotly-graph-div course-plot"[^>]*><svg [^>]*class="course-static-plot"/);
    expect(html).toContain('"y":[3.1,2.7,2.5]');
    expect(html).toContain('div.style.height = "300px"');
    expect(bundle["text/plain"]).toBe('[plot] Loss: scatter "train" (3 points)');
  });

  it("never points at the network: no CDN, no absolute URL", () => {
    const html = plotlyBundle(figure, "plot-test")["text/html"] as string;
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).not.toContain("cdn.plot.ly");
  });

  it("loads the plotly.js that is installed", () => {
    const installed = JSON.parse(readFileSync("node_modules/plotly.js-dist/package.json", "utf8")).version;
    expect(PLOTLY_VERSION).toBe(installed);
    expect(readFileSync(PLOTLY_PATH, "utf8").slice(0, 200)).toContain(`plotly.js v${installed}`);
  });

  it("keeps data that looks like HTML inside its script", () => {
    const html = plotlyBundle({ data: [{ name: "</script><script>alert(1)</script>", y: [1] }] })["text/html"] as string;
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    expect(html).toContain("\\u003c/script>");
    expect(html).not.toContain("<script>alert");
  });

  it("in a Jupyter page, loads plotly.js once from the server's files/ and draws every figure (fake DOM)", () => {
    const page = fakePage({ baseUrl: "/user/me/" });
    page.run(plotlyBundle(figure, "plot-a")["text/html"] as string);
    page.run(plotlyBundle({ data: [{ type: "bar", y: [1, 2] }] }, "plot-b")["text/html"] as string);
    expect(page.appended.map((s) => [s.id, s.src])).toEqual([[PLOTLY_SCRIPT_ID, `/user/me/files/${PLOTLY_PATH}`]]);
    expect(page.drawn).toEqual([]);
    expect(page.divs.get("plot-a")!.innerHTML).toContain("<svg"); // the static picture until plotly.js is there
    page.finishLoading();
    expect(page.drawn.map((d) => d.div)).toEqual(["plot-a", "plot-b"]);
    expect(page.drawn[1].data).toEqual([{ type: "bar", y: [1, 2] }]);
    expect(page.divs.get("plot-a")!.innerHTML).toBe(""); // the SVG gave way to plotly's drawing
    expect(page.divs.get("plot-a")!.style.height).toBe("300px");
    page.run(plotlyBundle(figure, "plot-c")["text/html"] as string); // plotly.js is there now
    expect(page.appended).toHaveLength(1);
    expect(page.drawn.map((d) => d.div)).toEqual(["plot-a", "plot-b", "plot-c"]);
  });

  it("draws at once with a plotly.js already on the page (an HTML export), loading nothing", () => {
    const page = fakePage({ baseUrl: null, plotly: true });
    page.run(plotlyBundle(figure, "plot-a")["text/html"] as string);
    expect(page.appended).toEqual([]);
    expect(page.drawn.map((d) => d.div)).toEqual(["plot-a"]);
  });

  it("outside Jupyter with no plotly.js, loads nothing and leaves the static SVG", () => {
    const page = fakePage({ baseUrl: null });
    page.run(plotlyBundle(figure, "plot-a")["text/html"] as string);
    expect(page.appended).toEqual([]);
    expect(page.drawn).toEqual([]);
    expect(page.divs.get("plot-a")!.innerHTML).toContain('class="course-static-plot"');
  });

  it("keeps the SVG and says where it looked when plotly.js cannot be loaded", () => {
    const page = fakePage({ baseUrl: "/" });
    page.run(plotlyBundle(figure, "plot-a")["text/html"] as string);
    page.failLoading();
    expect(page.divs.get("plot-a")!.notes.join()).toContain(`not found at /files/${PLOTLY_PATH}`);
    expect(page.divs.get("plot-a")!.innerHTML).toContain("<svg");
    page.run(plotlyBundle(figure, "plot-b")["text/html"] as string);
    expect(page.divs.get("plot-b")!.notes.join()).toContain("not found");
    expect(page.appended).toHaveLength(1);
  });
});

describe("figureSvg (the static picture)", () => {
  const rects = (svg: string) => [...svg.matchAll(/<rect x="([\d.-]+)" y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)" fill="([^"]+)"\/>/g)].map((m) => m.slice(1));

  it("places a line's points on linear axes (hand-computed pixels)", () => {
    // Plot area x 50..350, y 250..50; x spans 0..2 exactly (lines), y 1..3 padded by 5% of 2 each side.
    const fig = lineChart([0, 1, 2], [{ name: "a", ys: [1, 2, 3] }], { width: 400, height: 300 });
    const svg = figureSvg({ ...fig, layout: { ...fig.layout, margin: { l: 50, r: 50, t: 50, b: 50 } } });
    expect(svg).toContain('<path d="M50,240.9L200,150L350,59.1" fill="none" stroke="#1f77b4" stroke-width="2"/>');
    expect(svg).toContain('viewBox="0 0 400 300"');
  });

  it("colours heatmap cells by the colorscale, row 0 on top (hand-computed cells)", () => {
    // heatmap()'s margins l 40, r 20, t 50, b 20 on 300×300: columns 40..160..280, rows 50..165..280 (reversed).
    const svg = figureSvg(heatmap([[0, 1], [2, 3]], { width: 300, height: 300, showScale: false }));
    const cells = rects(svg).filter((r) => r[2] !== "300");
    expect(cells).toEqual([
      ["40", "50", "120", "115", "#f7fbff"],
      ["160", "50", "120", "115", colourHex(1 / 3)],
      ["40", "165", "120", "115", colourHex(2 / 3)],
      ["160", "165", "120", "115", "#08306b"],
    ]);
  });

  it("writes each cell's text, line by line, in the colour its markup asks for", () => {
    const svg = figureSvg(heatmap([[0, 9]], { x: ["a", "b"], y: ["r"], text: [["aa<br>0", "ab<br>9"]], textSize: 10 }));
    expect(svg).toMatch(/<g fill="black"><text x="[\d.]+" y="[\d.]+">aa<\/text><text x="[\d.]+" y="[\d.]+">0<\/text><\/g>/);
    expect(svg).toMatch(/<g fill="white"><text[^>]*>ab<\/text><text[^>]*>9<\/text><\/g>/);
    expect(svg).toContain('font-size="10" text-anchor="middle"');
  });

  it("draws bars from zero, subplot titles, a legend, and escapes text", () => {
    const bars = figureSvg({ data: [{ type: "bar", x: ["a", "b"], y: [1, 3] }], layout: { width: 300, height: 300, margin: { l: 50, r: 50, t: 50, b: 50 } } });
    // y spans 0..3 padded by 0.15: zero at 250 - 0.15/3.3*200 = 240.9; bar b reaches 3 → 59.1, 80% of a 100 px band.
    expect(rects(bars)).toContainEqual(["160", "59.1", "80", "181.8", "#1f77b4"]);
    const side = figureSvg(sideBySide([heatmap([[1]], { title: "left <b>&amp;</b>" }), heatmap([[2]], { title: "right" })]));
    expect(side).toContain(">left  &amp; </text>");
    expect(side).toContain(">right</text>");
    const two = figureSvg(lineChart(null, [{ name: "train", ys: [1, 2] }, { name: "<val>", ys: [2, 1], dash: "dash" }]));
    expect(two).toContain(">&lt;val&gt;</text>");
    expect(two).toContain('stroke-dasharray="9,9"');
  });

  it("ticks a log axis at 1, 2, 5 × 10^k over a few decades, every multiple within one", () => {
    const yTicks = (svg: string) => [...svg.matchAll(/text-anchor="end" dominant-baseline="central">([^<]+)</g)].map((m) => m[1]);
    expect(yTicks(figureSvg(lineChart(null, [{ name: "a", ys: [1, 10, 100] }], { logY: true })))).toEqual(["1", "2", "5", "10", "20", "50", "100"]);
    expect(yTicks(figureSvg(lineChart(null, [{ name: "a", ys: [300, 900] }], { logY: true })))).toEqual(["300", "400", "500", "600", "700", "800", "900"]);
  });

  it("draws a 300,000-step loss curve as at most 2,001 points, first and last kept", () => {
    const ys = Float32Array.from({ length: 300_000 }, (_, i) => 4 / (1 + i / 1000));
    const svg = figureSvg(lineChart(null, [{ name: "loss", ys }], { width: 400, height: 300 }));
    const path = /<path d="(M[^"]+)" fill="none" stroke="#1f77b4"/.exec(svg)![1];
    const points = path.split(/[ML]/).filter(Boolean);
    expect(points.length).toBe(2001);
    // Plot area y 220..100; y spans 4/300001..4 padded by 5%: the first point, 4, sits at 220 - 120·(4.186/4.386).
    expect(points[0]).toBe("80,105.5");
    expect(points.at(-1)!.startsWith("320,")).toBe(true);
  });

  it("is balanced markup, whatever the figure (every element closed)", () => {
    for (const fig of [figure, heatmap([[1, 2], [3, 4]], { text: [["a", "b"], ["c", "d"]] }), sideBySide([figure, figure]), { data: [] }]) {
      const svg = figureSvg(fig);
      const opened = (svg.match(/<(svg|g|text|defs|linearGradient)[ >]/g) ?? []).length;
      const closed = (svg.match(/<\/(svg|g|text|defs|linearGradient)>/g) ?? []).length;
      expect(opened).toBe(closed);
    }
  });
});

/** BLUES at t, as #rrggbb (what the SVG writes). */
function colourHex(t: number): string {
  return "#" + colourAt(BLUES, t).map((c) => Math.round(c).toString(16).padStart(2, "0")).join("");
}

/** Just enough DOM to run the HTML form's script: divs, one <head>, a <body> with Jupyter's data-base-url. */
function fakePage(options: { baseUrl: string | null; plotly?: boolean }) {
  type Listener = () => void;
  interface FakeDiv {
    id: string;
    style: Record<string, string>;
    innerHTML: string;
    notes: string[];
    appendChild(p: { textContent: string }): void;
  }
  const divs = new Map<string, FakeDiv>();
  const scripts = new Map<string, FakeScript>();
  const appended: FakeScript[] = [];
  const drawn: { div: string; data: unknown }[] = [];
  class FakeScript {
    id = "";
    src = "";
    charset = "";
    onerror: Listener | null = null;
    style = { cssText: "" };
    textContent = "";
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
  const plotly = { newPlot: (div: { id: string }, data: unknown) => drawn.push({ div: div.id, data }) };
  const window: Record<string, unknown> = options.plotly ? { Plotly: plotly } : {};
  const document = {
    getElementById: (id: string) => divs.get(id) ?? scripts.get(id) ?? null,
    createElement: () => new FakeScript(),
    body: { getAttribute: (name: string) => (name === "data-base-url" ? options.baseUrl : null) },
    head: {
      appendChild: (script: FakeScript) => {
        appended.push(script);
        scripts.set(script.id, script);
      },
    },
  };
  const context = vm.createContext({ window, document, Object, JSON });
  return {
    divs,
    appended,
    drawn,
    run(html: string) {
      const [, id, inner] = /^<div id="([^"]+)"[^>]*>([\s\S]*?)<\/div>/.exec(html)!;
      const notes: string[] = [];
      divs.set(id, { id, style: {}, innerHTML: inner, notes, appendChild: (p) => notes.push(p.textContent) });
      const script = /<script type="text\/javascript">([\s\S]*)<\/script>/.exec(html)![1];
      vm.runInContext(script, context);
    },
    finishLoading() {
      window.Plotly = plotly;
      for (const fn of appended[0].listeners.load) fn();
    },
    failLoading() {
      appended[0].onerror?.();
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
